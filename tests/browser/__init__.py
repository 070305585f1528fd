"""Helpers of the browser tests: a live server on the test database, Chromium, axe-core."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from workflow.extensions import db


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # the test output is for failures
        pass


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def require_chromium() -> Path:
    """Debian's Chromium; never a downloaded browser. Fail loudly when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package. "
            "Run scripts/setup.sh (it installs chromium), or `sudo apt-get install chromium`."
        )
    return CHROMIUM


@contextmanager
def chromium():
    """Debian's Chromium, headless, through Playwright; closed at the end of the block."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def axe_script() -> Path:
    """axe.min.js as bundled by the axe-playwright-python package (served from disk)."""
    try:
        import axe_playwright_python
    except ImportError:
        pytest.fail("axe-playwright-python is missing: pip install -e '.[test]'")
    path = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    if not path.exists():
        pytest.fail(f"{path} not found in axe-playwright-python")
    return path


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve *app* on 127.0.0.1 and a free port in a background thread; yield its base URL.
    Afterwards the app's database connections are closed (the next module's app opens its own)."""
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page; return every violation, whatever its impact (issue 20: none)."""
    # Evaluated, not added as a <script> tag: the pages' CSP rightly refuses inline scripts, and
    # evaluation through DevTools is not a page script (the test's tool, not the site's code).
    page.evaluate(axe_script().read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return list(result["violations"])


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])[:5]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return "\n".join(lines)
