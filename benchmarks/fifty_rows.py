"""What the bare page (bare_app.py) and the floor page (floor_app.py) both show: the 50 most
recently updated items with their section, one plain query, one table."""

import sqlalchemy as sa

LIST = sa.text(
    "SELECT items.id, items.title, sections.name AS section, items.status, items.updated_at"
    " FROM items JOIN sections ON sections.id = items.section_id"
    " ORDER BY items.updated_at DESC, items.id DESC LIMIT 50"
)

TABLE = """<table>
<thead><tr><th>案件名</th><th>所管課</th><th>状態</th><th>更新</th></tr></thead>
<tbody>
{% for row in rows %}
<tr><td><a href="/items/{{ row.id }}">{{ row.title }}</a></td><td>{{ row.section }}</td>
<td>{{ row.status }}</td><td>{{ row.updated_at }}</td></tr>
{% endfor %}
</tbody></table>"""
