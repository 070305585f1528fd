"""What every API view shares: the blueprint, bearer authentication, the JSON body, access, commit.

Views read like this: ``user = require_user()``, ``item = readable_item(item_id)``, call a service,
and ``return written(lambda: serializer(...))``: the answer is built before the commit (see
:func:`written`). Business rules live in the services and permissions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import select

from workflow.api import idempotency
from workflow.database import writing
from workflow.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from workflow.extensions import db
from workflow.models import ApiToken, Item, Meeting, User
from workflow.models._types import utcnow
from workflow.models.user import hash_token
from workflow.permissions import can_read_item, can_read_meeting, is_admin
from workflow.schemas.limits import ID_MAX, QUERY_MAX, UNSTORABLE_MESSAGE, storable
from workflow.schemas.types import integer, validate_value
from workflow.services.transaction import commit

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_ID = ID_MAX
VERSION = integer(nullable=True)
# Record a token's last use at most this often: a write per request would serialise readers.
_TOUCH_EVERY = timedelta(minutes=1)


class Unauthorized(WorkflowError):
    """No token where one is needed, or a token that is unknown or revoked."""

    code = "unauthorized"
    http_status = 401


class BadRequest(WorkflowError):
    """The body is not a JSON object we can read."""

    code = "bad_request"
    http_status = 400


@bp.before_request
def authenticate() -> None:
    """Act as the token's user; no header means the public. The session cookie is never used."""
    g.api_user = None
    g.invalid_token = False
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    row = ApiToken.lookup(token) if scheme.lower() == "bearer" and token else None
    if row is None or not row.user.is_active:
        g.invalid_token = True
        if row is None and _expired(token):
            raise Unauthorized(
                "APIトークンの有効期限が切れています。新しいトークンを発行してください。"
            )
        raise Unauthorized("APIトークンが正しくないか、失効しています。")
    if row.last_used_at is None or utcnow() - row.last_used_at > _TOUCH_EVERY:
        writing()
        row.last_used_at = utcnow()
        db.session.commit()
    g.api_user = row.user


def _expired(token: str) -> bool:
    """Whether *token* is one we issued whose expiry has passed (and was not revoked first)."""
    if not token:
        return False
    return (
        db.session.scalar(
            select(ApiToken.id).where(
                ApiToken.token_hash == hash_token(token),
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at <= utcnow(),
            )
        )
        is not None
    )


@bp.before_request
def replay_or_note_idempotency_key() -> Response | None:
    """A write with an ``Idempotency-Key`` already answered: the stored answer (see
    workflow.api.idempotency). Runs after :func:`authenticate`, in the view's transaction."""
    return idempotency.begin(g.api_user)


def written(build: Callable[[], Any], status: int = 200) -> Response:
    """Commit the request's change and answer with ``build()``, made before the commit.

    The body is built from the flushed objects, which hold what the commit makes true; nothing is
    read after the commit, where a lost connection would turn a success into an error. The
    answer is kept under the request's ``Idempotency-Key`` in the same transaction.
    """
    db.session.flush()  # ids and versions assigned: the body shows them
    response = jsonify(build())
    response.status_code = status
    idempotency.remember(response)
    commit()
    return response


def current_api_user() -> User | None:
    """The token's user, or None for the public."""
    return g.get("api_user")


def require_user() -> User:
    """The token's user; 401 without a token."""
    user = current_api_user()
    if user is None:
        raise Unauthorized("この操作にはAPIトークン（Authorization: Bearer …）が必要です。")
    return user


def require_admin() -> User:
    """The token's user, if an admin (/api/v1/admin/…): 401 without a token, 403 for anyone else."""
    user = require_user()
    if not is_admin(user):
        raise Forbidden("この操作はシステム管理者だけが行えます。")
    return user


def deny(noun: str) -> WorkflowError:
    """What to raise for something the caller may not read: the public learns nothing of it."""
    if current_api_user() is None:
        return NotFound(f"指定された{noun}はありません。")
    return Forbidden(f"この{noun}を見る権限がありません。")


def _get(cls: type, row_id: int, noun: str):
    row = db.session.get(cls, row_id) if 1 <= row_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"指定された{noun}はありません。", {"id": row_id})
    return row


def readable_item(item_id: int) -> Item:
    """The item, if the caller may read it (404 unknown or hidden from the public, 403 staff)."""
    item = _get(Item, item_id, "案件")
    if not can_read_item(current_api_user(), item):
        raise deny("案件")
    return item


def readable_meeting(meeting_id: int) -> Meeting:
    """The meeting, if the caller may see it."""
    meeting = _get(Meeting, meeting_id, "会議")
    if not can_read_meeting(current_api_user(), meeting):
        raise deny("会議")
    return meeting


def json_body() -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}``. 400 for anything else."""
    raw = request.get_data(cache=True)  # 413 past MAX_CONTENT_LENGTH
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("リクエストの本文が UTF-8 ではありません。") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(
            "リクエストの本文を JSON として読めません。", {"reason": str(exc)[:200]}
        ) from None
    if not isinstance(data, dict):
        raise BadRequest("リクエストの本文は JSON オブジェクト（{…}）にしてください。")
    return data


def optional_version(data: dict[str, Any]) -> int | None:
    """Pop the ``version`` the client read (optional)."""
    return validate_value(VERSION, "version", data.pop("version", None))


def int_value(value: Any, field: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int:
    """A JSON integer in range (booleans are not numbers here)."""
    return validate_value(integer(minimum, maximum), field, value)


def query_int(name: str, default: int, *, maximum: int = MAX_ID) -> int:
    """An integer query parameter (422 when it is not one)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise ValidationFailed.field(name, "1以上の整数で指定してください。")
    return int_value(int(raw), name, maximum=maximum)


def query_text(name: str, *, limit: int = QUERY_MAX) -> str:
    """A text query parameter, stripped; characters no database stores are refused."""
    raw = request.args.get(name, "").strip()
    if len(raw) > limit:
        raise ValidationFailed.field(name, f"{limit}文字以内で指定してください。")
    if not storable(raw, one_line=True):
        raise ValidationFailed.field(name, UNSTORABLE_MESSAGE)
    return raw
