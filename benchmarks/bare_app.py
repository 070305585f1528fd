"""The baseline: a bare Flask + Jinja page listing the same 50 rows as the item list.

    DATABASE_URL=… gunicorn -w 2 -b 127.0.0.1:8101 --chdir benchmarks bare_app:app

No sign-in, no session, no forms, no ORM: one plain query for the 50 most recently updated items
with their section, rendered into a table. The item list page (``/items/``) does the same work
plus everything the real application adds; the goal is that it keeps ≥ 50 % of this throughput.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask

LIST = sa.text(
    "SELECT items.id, items.title, sections.name AS section, items.status, items.updated_at"
    " FROM items JOIN sections ON sections.id = items.section_id"
    " ORDER BY items.updated_at DESC, items.id DESC LIMIT 50"
)

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>案件一覧</title></head>
<body><h1>案件一覧</h1>
<table>
<thead><tr><th>案件名</th><th>所管課</th><th>状態</th><th>更新</th></tr></thead>
<tbody>
{% for row in rows %}
<tr><td><a href="/items/{{ row.id }}">{{ row.title }}</a></td><td>{{ row.section }}</td>
<td>{{ row.status }}</td><td>{{ row.updated_at }}</td></tr>
{% endfor %}
</tbody></table></body></html>
"""

app = Flask(__name__)
engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=False)
# Compiled once, as a template file is (render_template_string compiles on every call, which
# made this baseline about a third slower than a real bare page).
template = app.jinja_env.from_string(PAGE)


@app.get("/")
def index() -> str:
    with engine.connect() as conn:
        rows = conn.execute(LIST).all()
    return template.render(rows=rows)
