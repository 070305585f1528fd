"""The fonts the official forms are printed in, found on disk, and the no-tofu check.

IPAex明朝 sets the body, IPAexゴシック the headings; IPAmj明朝 (about 58,000 glyphs of the 文字情報
基盤) is the fallback for the rare characters IPAex lacks, such as 𠮷. Every character of a
document is checked against the fonts' character maps *before* rendering: one missing glyph
makes WeasyPrint re-encode the whole font and pypdf then reads the body as garbage, and a tofu
box in an official record is unacceptable anyway.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

__all__ = [
    "FONTS",
    "GOTHIC",
    "MINCHO",
    "MJ",
    "FontFile",
    "FontMissingError",
    "UnprintableCharacterError",
    "cmap",
    "font_path",
    "needs_fallback",
]


class FontMissingError(RuntimeError):
    """A font file is not installed; the message says which package to install."""

    def __init__(self, font: FontFile) -> None:
        self.font = font
        self.message = (
            f"PDFを作成できません。書体「{font.label}」のファイルが見つかりません"
            f"（Debian/Ubuntu: apt-get install {font.package}）"
        )
        super().__init__(self.message)


class UnprintableCharacterError(ValueError):
    """The text holds a character that no installed font can print (it would come out as tofu)."""

    def __init__(self, chars: list[str]) -> None:
        self.chars = chars
        names = "、".join(f"「{c}」（U+{ord(c):04X}）" for c in chars)
        self.message = (
            f"文字{names}はPDFの書体（IPAex明朝・IPAmj明朝）にないため印刷できません。"
            "別の文字に置き換えてください"
        )
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class FontFile:
    """One font: the CSS family the templates use and where Debian puts the file."""

    css_family: str  # the name print.css uses, and the PDF shows
    label: str  # Japanese name, for messages
    fc_family: str  # the family fontconfig knows it by
    package: str  # Debian package that installs it
    known_paths: tuple[str, ...]


MINCHO = FontFile(
    "IPAexMincho",
    "IPAex明朝",
    "IPAexMincho",
    "fonts-ipaexfont",
    ("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",),
)
GOTHIC = FontFile(
    "IPAexGothic",
    "IPAexゴシック",
    "IPAexGothic",
    "fonts-ipaexfont",
    ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",),
)
MJ = FontFile(
    "IPAmjMincho",
    "IPAmj明朝",
    "IPAmjMincho",
    "fonts-ipamj-mincho",
    ("/usr/share/fonts/truetype/ipamj/ipamjm.ttf",),
)
FONTS: tuple[FontFile, ...] = (MINCHO, GOTHIC, MJ)

# Characters that lay out text but draw no glyph, so need none.
_LAYOUT_ONLY = frozenset("\t\n\r\f")


@cache
def font_path(font: FontFile) -> Path:
    """The font's file: the Debian path, else what fontconfig knows; FontMissingError if none."""
    for candidate in font.known_paths:
        path = Path(candidate)
        if path.is_file():
            return path.resolve()
    found = _fc_list(font.fc_family)
    if found is None:
        raise FontMissingError(font)
    return found


def _fc_list(family: str) -> Path | None:
    """Ask fontconfig for a file of exactly *family* (fc-match would always answer something)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        result = subprocess.run(  # noqa: S603  (fixed program, no shell, our own argument)
            [fc_list, f":family={family}", "file"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in sorted(result.stdout.splitlines()):
        path = Path(line.strip().rstrip(":"))
        if path.suffix.lower() in {".ttf", ".otf"} and path.is_file():
            return path.resolve()
    return None


@cache
def cmap(font: FontFile) -> frozenset[int]:
    """The code points the font has a glyph for (read once per process)."""
    with TTFont(font_path(font), lazy=True) as tt:
        return frozenset(tt.getBestCmap())


def needs_fallback(text: str) -> bool:
    """Whether *text* needs IPAmj明朝; raise UnprintableCharacterError if a character has no font.

    The body font decides: headings are set in IPAexゴシック, whose character set is the same, and
    their font list falls back to IPAex明朝 and IPAmj明朝 in that order like the body's.
    """
    body = cmap(MINCHO)
    missing = sorted({c for c in text if ord(c) not in body and c not in _LAYOUT_ONLY})
    if not missing:
        return False
    # IPAmj明朝's map is large: read only when a document needs it.
    fallback = cmap(MJ)
    nowhere = [c for c in missing if ord(c) not in fallback]
    if nowhere:
        raise UnprintableCharacterError(nowhere)
    return True


def describe(char: str) -> str:
    """「𠮷」 (U+20BB7 CJK UNIFIED IDEOGRAPH-20BB7), for logs."""
    return f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed')})"
