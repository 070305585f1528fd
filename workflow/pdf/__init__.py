"""PDF rendering of the official forms (様式２, 様式６, 次第, public-comment results)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the PDF commands (flask doctor)."""
