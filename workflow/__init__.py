"""chogi: the 庁議 workflow, from the agenda request (様式２) to the published minutes (様式６)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from workflow.config import load_config
from workflow.extensions import csrf, db, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the application; *config* overrides what the environment gives."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)

    from workflow.files import UploadRequest

    app.request_class = UploadRequest  # 資料 uploads have their own body limit (workflow.files)
    app.json.ensure_ascii = False  # Japanese in API responses as UTF-8, not \uXXXX escapes

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from workflow import (
        database,
        models,  # noqa: F401  (registers every table with the metadata)
    )

    with app.app_context():
        database.configure_engine(db.engine, wait_seconds=app.config["DATABASE_WAIT_SECONDS"])
        if db.engine.dialect.name == "sqlite":
            database.init_app(app)

    from workflow import api, auth, cli, faults, filters, observability, pdf, security, views

    observability.init_app(app)  # first: its request id and timing wrap everything else
    security.init_app(app)
    auth.init_app(app)
    filters.init_app(app)
    cli.init_app(app)
    views.init_app(app)
    api.init_app(app)
    faults.init_app(app)
    pdf.init_app(app)
    return app
