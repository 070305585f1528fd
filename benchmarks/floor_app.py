"""The floor: the least a signed-in page can do on the design's fixed stack, listing the same 50 rows.

    DATABASE_URL=… gunicorn -w 2 -b 127.0.0.1:8102 --chdir benchmarks floor_app:app

The bare page (bare_app.py) has no sign-in, no session and no forms. The design fixes what every
page of ours stands on: Flask-SQLAlchemy's session, Flask-Login with the user read from the
database, Flask-WTF (a CSRF token in the layout, the filter as a WTForms form) and a layout that a
page extends. This page is those parts in their plainest use, as their documentation shows them,
and nothing of the application: a client-side session (no server-side session row, no idle or
absolute timeout, no revocation), no security headers, no request log, no permissions, no texts
made per row. Run beside the bare page, it shows how much of the bare page's
throughput the stack leaves before the application adds anything (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from fifty_rows import LIST, TABLE
from flask import Flask, redirect, render_template, request
from flask_login import LoginManager, UserMixin, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect, FlaskForm
from jinja2 import DictLoader
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash
from wtforms import SearchField, SelectField

TEMPLATES = {
    "layout.html": """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>{% block title %}{% endblock %}</title></head>
<body><header>{{ current_user.display_name }}
{%- if current_user.section %}（{{ current_user.section.name }}）{% endif %}
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<button type="submit">ログアウト</button></form></header>
<main>{% block content %}{% endblock %}</main></body></html>
""",
    "list.html": """{% extends "layout.html" %}
{% block title %}案件一覧{% endblock %}
{% block content %}<h1>案件一覧</h1>
<form method="get">{{ form.q.label }} {{ form.q() }} {{ form.status.label }} {{ form.status() }}
<button type="submit">絞り込む</button></form>
"""
    + TABLE
    + "{% endblock %}\n",
}

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ.get("SECRET_KEY", "floor-benchmark-only"),
    SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"],
)
app.jinja_loader = DictLoader(TEMPLATES)
db = SQLAlchemy(app)
csrf = CSRFProtect(app)
login_manager = LoginManager(app)


class Section(db.Model):
    __tablename__ = "sections"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str]
    display_name: Mapped[str]
    password_hash: Mapped[str]
    section_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sections.id"))
    section: Mapped[Section | None] = relationship(lazy="joined")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form

    q = SearchField("件名")
    status = SelectField(
        "状態",
        choices=[("", "すべて"), ("submitted", "申込済"), ("concluded", "完了")],
        validate_choice=False,
    )


@app.post("/login")
@csrf.exempt  # the benchmark signs in once, with the demo secretariat's password
def login():
    user = db.session.scalar(sa.select(User).where(User.login == request.form["login"]))
    if user is None or not check_password_hash(user.password_hash, request.form["password"]):
        return "ログインIDまたはパスワードが正しくありません。", 403
    login_user(user)
    return redirect("/")


@app.get("/")
@login_required
def index() -> str:
    form = FilterForm(request.args)
    form.validate()
    rows = db.session.execute(LIST).all()
    return render_template("list.html", rows=rows, form=form)
