"""Command line: flask --app wsgi section|user|demo …"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the command groups."""
