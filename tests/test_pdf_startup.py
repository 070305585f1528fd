"""Start-up cost: the app starts without WeasyPrint and Alembic; WeasyPrint without ~20 processes."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workflow.pdf.weasy import LDCONFIG, ldconfig_finder

ROOT = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path(LDCONFIG).exists(),
    reason="the ld.so cache look-up exists only on Linux with glibc's ldconfig",
)

# Count the processes an import starts, in a fresh interpreter.
COUNT_PROCESSES = """
import subprocess, sys
started = []
original = subprocess.Popen.__init__
def counting(self, args, *a, **kw):
    started.append(args)
    original(self, args, *a, **kw)
subprocess.Popen.__init__ = counting
{body}
print(len(started))
"""


def _run(code: str, *args: str) -> str:
    """Run *code* in a fresh interpreter with *args*; return its last line of output."""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={"SECRET_KEY": "test-only", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_app_starts_without_weasyprint(tmp_path):
    code = f"""
    import sys
    from workflow import create_app
    create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/x.db"}})
    print("weasyprint" in sys.modules)
    """
    assert _run(code) == "False"  # WeasyPrint is imported when a PDF is rendered


def test_a_cached_pdf_is_served_without_importing_weasyprint(tmp_path):
    """A worker whose downloads all hit the shared cache never pays for WeasyPrint's import."""
    database = tmp_path / "x.db"
    render_then_serve = f"""
    import sys
    from datetime import date
    from workflow import create_app
    from workflow.extensions import db
    from workflow.models import Meeting, seed_meeting_kinds
    from workflow.pdf import documents
    from workflow.states.states import MeetingStatus
    app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{database}"}})
    with app.app_context():
        if sys.argv[1:] == ["render"]:
            db.create_all()
            seed_meeting_kinds()
            db.session.add(Meeting(kind="policy_coordination", number=1, fiscal_year=2019,
                                   date=date(2019, 11, 8), status=MeetingStatus.CONFIRMED))
            db.session.commit()
        doc = documents.agenda_pdf(db.session.get(Meeting, 1))
        db.session.commit()
        print(doc.cached, "weasyprint" in sys.modules)
    """
    assert _run(render_then_serve, "render") == "False True"  # rendered, so imported
    assert _run(render_then_serve) == "True False"  # a hit: the cache's key needs no import


@linux_only
def test_weasyprint_imports_with_one_ldconfig_read():
    fast = _run(
        COUNT_PROCESSES.format(
            body="from workflow.pdf.weasy import import_weasyprint; import_weasyprint()"
        )
    )
    # A plain `import weasyprint` starts 20-odd (ldconfig, gcc and ld per failing name).
    assert int(fast) == 1


@linux_only
def test_the_cached_lookup_answers_as_find_library_does():
    listing = subprocess.run([LDCONFIG, "-p"], capture_output=True, check=True).stdout  # noqa: S603
    find = ldconfig_finder(listing)
    for name in ("gobject-2.0", "pango-1.0", "harfbuzz", "fontconfig", "pangoft2-1.0", "c"):
        assert find(name) == ctypes.util.find_library(name)
        assert find(name) is not None
    assert find("libgobject-2.0-0") is None  # a Windows-style name: the next one is tried


@linux_only
def test_find_library_is_restored_and_weasyprint_has_its_libraries():
    code = """
    import ctypes.util
    original = ctypes.util.find_library
    from workflow.pdf.weasy import import_weasyprint
    import_weasyprint()
    from weasyprint.text import ffi
    assert ffi.pango is not None and ffi.harfbuzz is not None
    print(ctypes.util.find_library is original)
    """
    assert _run(code) == "True"
