"""Blueprints of the HTML pages."""

from flask import Flask


def init_app(app: Flask) -> None:
    from workflow.views.main import bp as main_bp

    app.register_blueprint(main_bp)
