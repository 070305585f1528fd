"""Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

A browser that signs in is given a signed cookie naming the login ID and a random nonce; when it
next tries that login ID, its attempts are counted per device (:mod:`workflow.sign_in_limits`),
so an attacker's failures from elsewhere do not lock it out. A shared PC keeps one entry per login
ID (the last :data:`MAX_ENTRIES`), each good for ``DEVICE_COOKIE_DAYS`` from its own sign-in.
Every successful sign-in gives the login ID a new nonce, so the failures of the old one are left
behind.

Signed with the app's ``SECRET_KEY`` (itsdangerous, its own salt): a forged or altered cookie
is no cookie at all. HttpOnly and SameSite=Lax, Secure when the session cookie is, and sent only
to the sign-in page, the one place that reads it.
"""

from __future__ import annotations

import secrets
import time

from flask import current_app, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from workflow.models.login_attempt import DEVICE_MAX, LOGIN_MAX

COOKIE = "chogi_device"
MAX_ENTRIES = 10
_SALT = "chogi.device-cookie"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_SALT)


def _max_age() -> int:
    return current_app.config["DEVICE_COOKIE_DAYS"] * 24 * 60 * 60


def _entries() -> list[tuple[str, str, int]]:
    """The request's valid (login ID, nonce, issued at) entries, newest first."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return []
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return []
    if not isinstance(data, list):
        return []
    oldest = time.time() - _max_age()
    return [
        (entry[0], entry[1], entry[2])
        for entry in data[:MAX_ENTRIES]
        if isinstance(entry, list)
        and len(entry) == 3
        and isinstance(entry[0], str)
        and isinstance(entry[1], str)
        and 0 < len(entry[1]) <= DEVICE_MAX
        and isinstance(entry[2], int)
        and entry[2] >= oldest
    ]


def device_for(login_id: str) -> str | None:
    """The nonce this browser holds for *login_id*, if its device cookie vouches for it."""
    for login, nonce, _issued in _entries():
        if login == login_id:
            return nonce
    return None


def remember_device(response: Response, login_id: str) -> None:
    """After a successful sign-in: a new nonce for *login_id* on *response*'s device cookie."""
    login_id = login_id[:LOGIN_MAX]
    kept = [list(e) for e in _entries() if e[0] != login_id][: MAX_ENTRIES - 1]
    entries = [[login_id, secrets.token_urlsafe(16), int(time.time())], *kept]
    response.set_cookie(
        COOKIE,
        _serializer().dumps(entries),
        max_age=_max_age(),
        path=url_for("auth.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
