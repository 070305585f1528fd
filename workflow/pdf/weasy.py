"""Import WeasyPrint with its library look-ups answered from one read of the ld.so cache (Linux).

WeasyPrint's import (weasyprint/text/ffi.py) opens seven C libraries, trying up to six names for
each. cffi hands every name that does not load as written to ``ctypes.util.find_library``, which
on Linux runs ``ldconfig -p`` and, when that finds nothing, gcc and then ld: some twenty
processes at every start that renders a PDF. On Debian only the plain soname at the end
of each list loads (libpango-1.0.so.0 …), and libharfbuzz-vector, absent from Debian 12's
HarfBuzz 6, fails all six names.

While WeasyPrint is imported, ``find_library`` answers from a single ``ldconfig -p`` read with
CPython's own pattern and skips the gcc/ld fall-backs. Nothing is lost by that: those fall-backs
return a soname that the dynamic loader must still find, and each of WeasyPrint's lists ends
with that soname, which ``dlopen`` resolves by itself. The real ``find_library`` is put back
when the import is done. On other systems the import is left as it is.
"""

from __future__ import annotations

import ctypes.util
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType

LDCONFIG = "/sbin/ldconfig"
# CPython's ctypes.util._findSoname_ldconfig: the ABI column of `ldconfig -p` per machine.
_ABI = {
    "x86_64-64": "libc6,x86-64",
    "ppc64-64": "libc6,64bit",
    "sparc64-64": "libc6,64bit",
    "s390x-64": "libc6,64bit",
    "ia64-64": "libc6,IA-64",
}


def import_weasyprint() -> ModuleType:
    """``import weasyprint``, the first time with the fast library look-up (Linux)."""
    if "weasyprint" not in sys.modules and sys.platform.startswith("linux"):
        with _ldconfig_lookup():
            import weasyprint  # noqa: F401
    import weasyprint

    return weasyprint


def ldconfig_finder(listing: bytes) -> Callable[[str], str | None]:
    """``find_library`` over one ``ldconfig -p`` listing, matching as CPython does."""
    bits = "-32" if struct.calcsize("l") == 4 else "-64"
    abi = _ABI.get(os.uname().machine + bits, "libc6")

    def find_library(name: str) -> str | None:
        pattern = os.fsencode(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({abi}")
        found = re.search(pattern, listing)
        return os.fsdecode(found.group(1)) if found else None

    return find_library


@contextmanager
def _ldconfig_lookup() -> Iterator[None]:
    try:
        listing = subprocess.run(  # noqa: S603  (a fixed command, as ctypes.util runs it)
            [LDCONFIG, "-p"],
            capture_output=True,
            env={"LC_ALL": "C", "LANG": "C"},
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        yield  # no ldconfig: the usual look-up
        return
    original = ctypes.util.find_library
    ctypes.util.find_library = ldconfig_finder(listing)
    try:
        yield
    finally:
        ctypes.util.find_library = original
