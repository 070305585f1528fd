"""The baseline: a bare Flask + Jinja page listing the same 50 rows as the item list.

    DATABASE_URL=… gunicorn -w 2 -b 127.0.0.1:8101 --chdir benchmarks bare_app:app

No sign-in, no session, no forms, no ORM: one plain query for the 50 most recently updated items
with their section, rendered into a table. The item list page (``/items/``) does the same work
plus everything the real application adds; the goal is that it keeps ≥ 50 % of this throughput.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from fifty_rows import LIST, TABLE
from flask import Flask

PAGE = f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>案件一覧</title></head>
<body><h1>案件一覧</h1>
{TABLE}</body></html>
"""

app = Flask(__name__)
engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=False)
# Compiled once, as a template file is (render_template_string compiles on every call, which a
# real bare page does not).
template = app.jinja_env.from_string(PAGE)


@app.get("/")
def index() -> str:
    with engine.connect() as conn:
        rows = conn.execute(LIST).all()
    return template.render(rows=rows)
