"""render_pdf(template, context) -> bytes: Jinja over pdf_templates/, then WeasyPrint, locked down.

Everything that is the same for every document — the Jinja environment, the parsed print
stylesheet, the @font-face rules and WeasyPrint's font configuration (which copies each font
file once) — is built once per process; a warm rendering only lays out the document.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import threading
from datetime import date, datetime, time
from functools import cache, cached_property
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from workflow import filters
from workflow.pdf import fonts
from workflow.pdf.weasy import import_weasyprint

# workflow.pdf.fetcher imports WeasyPrint (about a second at start-up): it is imported where a
# document is rendered, so processes that render nothing never pay for it.

__all__ = ["TEMPLATES_DIR", "PdfRenderError", "render_html", "render_pdf", "templates_digest"]

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "pdf_templates"
STYLESHEET = "print.css"
JST = ZoneInfo("Asia/Tokyo")

# Every official document is kept as a 公文書 and must be readable by assistive technology:
# PDF/A-2 level A is both at once (ISO 19005-2's "accessible" level: PDF/A-2b plus a tagged
# structure tree, /Lang and Unicode text). WeasyPrint's "pdf/a-2a" turns its tagging on itself
# (pdf_tags), declares pdfaid:part 2 / conformance A in the XMP, embeds the sRGB output intent
# and writes a file /ID. The alternatives claim less: "pdf/a-2u" with pdf_tags=True makes the
# same file but declares level U, so no validator holds its tags to the accessible level's
# rules; "pdf/ua-1" replaces the PDF/A identification instead of adding to it (one variant per
# file, one XMP pdf*id schema), so the file would no longer say it is PDF/A.
# Reproducible: the XMP dates are metadata.created/modified (the record's, set below), PDF/A-2
# writes no xmpMM:DocumentID (only PDF/X-4 draws a random UUID), and pydyf makes the /ID from
# an MD5 of the objects, so the same input still gives the same bytes.
PDF_VARIANT = "pdf/a-2a"
# PDF/A's output intent. Left to WeasyPrint ("srgb"), every rendering would open its ICC file
# again and leave it for the garbage collector to close (a ResourceWarning each time); given as
# a colour profile of our own, under a CSS identifier, the file is read once per process. The
# profile object is made anew for each document all the same: Pillow serialises a profile
# differently after its first tobytes(), so a shared one would change the second PDF's bytes.
OUTPUT_INTENT = "--srgb"
SRGB_PROFILE = "sRGB2014.icc"  # shipped with WeasyPrint, the one its "srgb" intent embeds

# Pango's font map is shared by every rendering in the process; one at a time.
_lock = threading.Lock()


class PdfRenderError(RuntimeError):
    """The renderer was asked to fetch something it must not; a bug in a template."""

    message = "PDFを作成できませんでした（帳票のひな形が外部の資源を参照しています）"


@cache
def _jinja() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Every value is user text: escape it all, whatever the file is called.
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    filters.register(env)
    return env


def render_html(template_name: str, context: dict) -> str:
    """The document as HTML (also handy to look at while working on a template)."""
    return _jinja().get_template(template_name).render(context)


@cache
def templates_digest() -> str:
    """A hash of every file in pdf_templates/: part of each cache key, so a new look re-renders."""
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(TEMPLATES_DIR).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


class _Engine:
    """WeasyPrint objects kept for the life of the process."""

    def __init__(self) -> None:
        import_weasyprint()
        from weasyprint import CSS
        from weasyprint.css import ColorProfile
        from weasyprint.css.counters import CounterStyle
        from weasyprint.text.fonts import FontConfiguration

        from workflow.pdf.fetcher import LockedFetcher

        self.CSS = CSS
        paths = {font: fonts.font_path(font) for font in (fonts.MINCHO, fonts.GOTHIC)}
        self.fetcher = LockedFetcher(folders=(TEMPLATES_DIR,), files=tuple(paths.values()))
        self.font_config = FontConfiguration()
        self.counter_style = CounterStyle()
        self.base_url = TEMPLATES_DIR.as_uri() + "/"
        self.faces = self._css(_font_face(fonts.MINCHO, paths[fonts.MINCHO]))
        self.faces_gothic = self._css(_font_face(fonts.GOTHIC, paths[fonts.GOTHIC]))
        self.print_css = CSS(
            filename=str(TEMPLATES_DIR / STYLESHEET),
            url_fetcher=self.fetcher,
            font_config=self.font_config,
            counter_style=self.counter_style,
        )
        self.ColorProfile = ColorProfile
        self.srgb_icc = (files("weasyprint.pdf") / SRGB_PROFILE).read_bytes()
        self._fallback = None

    def _css(self, text: str):
        return self.CSS(
            string=text,
            base_url=self.base_url,
            url_fetcher=self.fetcher,
            font_config=self.font_config,
            counter_style=self.counter_style,
        )

    def fallback_faces(self):
        """IPAmj明朝's @font-face, loaded (a 46 MB file) only once a document needs it."""
        if self._fallback is None:
            path = fonts.font_path(fonts.MJ)
            self.fetcher.files = self.fetcher.files | {path}
            self._fallback = self._css(_font_face(fonts.MJ, path))
        return self._fallback

    def color_profiles(self) -> dict:
        """The output intent's sRGB profile, for one document (see OUTPUT_INTENT)."""
        rgb = (["r"], ["g"], ["b"])
        profile = io.BytesIO(self.srgb_icc)
        return {
            OUTPUT_INTENT: self.ColorProfile(profile, SRGB_PROFILE, "relative-colorimetric", rgb)
        }

    def stylesheets(self, fallback: bool) -> list:
        sheets = [self.faces, self.faces_gothic]
        if fallback:
            sheets.append(self.fallback_faces())
        sheets.append(self.print_css)
        return sheets


def _font_face(font: fonts.FontFile, path: Path) -> str:
    return f'@font-face {{ font-family: "{font.css_family}"; src: url("{path.as_uri()}"); }}\n'


@cache
def _engine() -> _Engine:
    return _Engine()


# Drop the engine at exit, before the interpreter takes modules apart: WeasyPrint's
# FontConfiguration removes its temporary font folder in __del__, which needs shutil still there.
atexit.register(_engine.cache_clear)


@cache
def _serialised_once(stream_class: type) -> type:
    """*stream_class* with its ``data`` (the serialised, compressed stream) computed only once."""
    return type(
        stream_class.__name__,
        (stream_class,),
        {"data": cached_property(stream_class.data.fget), "__module__": stream_class.__module__},
    )


def _serialise_streams_once(document, pdf) -> None:
    """WeasyPrint finisher: keep each stream's bytes once made, for the /ID PDF/A requires.

    pydyf writes the objects, then serialises all of them again to hash them for the /ID, and
    a stream's serialisation is a zlib compression at level 9 each time: the embedded fonts and
    the pages, most of a file, compressed twice. Nothing changes a stream while pydyf writes,
    so the bytes are the same (a test compares them); only the second compression is saved.
    """
    from pydyf import Stream

    for pdf_object in pdf.objects:
        if isinstance(pdf_object, Stream):
            pdf_object.__class__ = _serialised_once(type(pdf_object))


def _w3c(moment: date | datetime) -> str:
    """A record's date or time as PDF metadata wants it; a bare date is midnight in Japan."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0, 0), tzinfo=JST)
    return moment.isoformat(timespec="seconds")


def render_pdf(
    template_name: str,
    context: dict,
    *,
    created: date | datetime,
    modified: date | datetime | None = None,
) -> bytes:
    """Render *template_name* with *context* to PDF bytes; the same input gives the same bytes.

    The dates written into the PDF come from the record (*created*, *modified*), never from the
    clock. Raises fonts.UnprintableCharacterError for a character no font has,
    fonts.FontMissingError when a font is not installed, PdfRenderError when a template refers
    to anything outside pdf_templates/ and the fonts.
    """
    import_weasyprint()
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    from workflow.pdf.fetcher import RefusedURLError

    html = render_html(template_name, context)
    fallback = fonts.needs_fallback(html)
    engine = _engine()
    with _lock:
        try:
            document = HTML(
                string=html, base_url=engine.base_url, url_fetcher=engine.fetcher
            ).render(
                font_config=engine.font_config,
                counter_style=engine.counter_style,
                color_profiles=engine.color_profiles(),
                stylesheets=engine.stylesheets(fallback),
                pdf_variant=PDF_VARIANT,
                output_intent=OUTPUT_INTENT,
            )
        except FatalURLFetchingError as exc:
            # A BaseException in WeasyPrint; make it an ordinary error with its cause.
            cause = exc.__cause__ if isinstance(exc.__cause__, RefusedURLError) else exc
            raise PdfRenderError(str(cause)) from None
        document.metadata.created = _w3c(created)
        document.metadata.modified = _w3c(modified or created)
        return document.write_pdf(
            pdf_variant=PDF_VARIANT,
            output_intent=OUTPUT_INTENT,
            finisher=_serialise_streams_once,
        )
