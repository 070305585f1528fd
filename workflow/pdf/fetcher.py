"""The only door WeasyPrint has to the outside: our templates folder and our font files.

An official record must not depend on (or leak to) any server, and user text must never make
the renderer open a file or a URL. Anything else is refused and stops the rendering, so a
mistake in a template is found at once instead of printing a document with a hole in it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from workflow.pdf.weasy import import_weasyprint

import_weasyprint()  # the first import of WeasyPrint, the fast way (see workflow.pdf.weasy)

from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

__all__ = ["LockedFetcher", "RefusedURLError"]

logger = logging.getLogger(__name__)


class RefusedURLError(ValueError):
    """The renderer asked for something outside the project's own assets."""


class LockedFetcher(URLFetcher):
    """Serve ``file:`` URLs inside *folders* or naming one of *files*; refuse everything else."""

    def __init__(self, folders: tuple[Path, ...], files: tuple[Path, ...]) -> None:
        # fail_on_errors: a refusal aborts the rendering (FatalURLFetchingError).
        super().__init__(allowed_protocols=("file",), fail_on_errors=True)
        self.folders = tuple(folder.resolve() for folder in folders)
        self.files = frozenset(file.resolve() for file in files)

    def allowed_path(self, url: str) -> Path:
        """The local file *url* names, if it is one of ours; RefusedURLError otherwise."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedURLError(f"refused non-local URL {url[:200]!r}")
        # resolve() follows symlinks and '..', so the containment test sees the real file.
        path = Path(unquote(parts.path)).resolve()
        if path in self.files:
            return path
        if any(path.is_relative_to(folder) for folder in self.folders) and path.is_file():
            return path
        raise RefusedURLError(f"refused file outside the PDF assets {url[:200]!r}")

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        try:
            path = self.allowed_path(url)
        except RefusedURLError:
            logger.warning("PDF renderer refused %r", url[:200])
            raise
        # WeasyPrint closes the response, and with it the file, once it has read it.
        return URLFetcherResponse(path.as_uri(), path.open("rb"))  # noqa: SIM115
