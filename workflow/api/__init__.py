"""The JSON API v1."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the /api/v1 blueprint."""
