"""``Idempotency-Key`` on the API's writes (the IETF httpapi draft "The Idempotency-Key HTTP
Header Field", as Stripe's API has it): a client that got no answer — a timeout, a dropped
connection, a 503 ``outcome_unknown`` — sends the request again with the same key and gets the
first answer, without the change being made twice.

- A key belongs to the token's user: (user, key) → the request's fingerprint and its answer.
- The answer is stored in the same transaction as the change (:func:`remember`, called by
  :func:`workflow.api.common.written` just before the commit): a committed change always has its
  answer stored, a rolled-back one never does.
- Only a 2xx answer is kept. A refused request (4xx) changed nothing: sent again it is checked
  afresh, and says the same unless the records changed meanwhile. 5xx answers are never kept.
- The same key with another method, path or body: 422 ``idempotency_key_reused``.
- The same key while the first request still runs: 409 ``idempotency_key_in_use``. On PostgreSQL
  the request holds a transaction-level advisory lock on (user, key), tried without waiting; on
  SQLite writes already take turns (``BEGIN IMMEDIATE``), so the second finds the first's answer.
- Answers are kept :data:`KEEP` (24 hours); after that the key may be used afresh, and
  ``flask prune`` deletes them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Response, g, request

from workflow.database import SAFE_METHODS
from workflow.errors import WorkflowError
from workflow.extensions import db
from workflow.models import IdempotencyKey, User
from workflow.models._types import utcnow
from workflow.models.idempotency_key import KEEP, KEY_MAX

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


class InvalidKey(WorkflowError):
    code = "invalid_idempotency_key"
    http_status = 400


class KeyReused(WorkflowError):
    code = "idempotency_key_reused"
    http_status = 422


class KeyInUse(WorkflowError):
    code = "idempotency_key_in_use"
    http_status = 409
    retry_after = 1  # seconds: the first request is about to answer


@dataclass(frozen=True)
class _Pending:
    """The request's key, waiting for its answer (kept in ``g``)."""

    user_id: int
    key: str
    fingerprint: str


def parse_key(raw: str) -> str:
    """The key from the header: 1–255 printable ASCII characters; a quoted structured-field
    string (the draft's form, ``"abc"``) and a bare token (Stripe's) are both accepted."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not 1 <= len(value) <= KEY_MAX or not all(" " <= ch <= "~" for ch in value):
        raise InvalidKey(
            f"{HEADER} は1～{KEY_MAX}文字の半角英数字・記号で指定してください"
            "（UUID などを使うと重なりません）。"
        )
    return value


def _fingerprint() -> str:
    """What makes two requests "the same": method, path with query, and the body (JSON compared
    by content, so key order and spacing do not matter)."""
    # An upload is read from its spooled file a block at a time, never whole into memory.
    multipart = request.mimetype == "multipart/form-data"
    body = _multipart_digest() if multipart else _json_body_bytes()
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _multipart_digest() -> bytes:
    """A multipart body's fields and files, hashed a block at a time (files left at 0)."""
    digest = hashlib.sha256()
    for name, value in sorted(request.form.items(multi=True)):
        digest.update(json.dumps([name, value], ensure_ascii=False).encode())
    for name, upload in sorted(request.files.items(multi=True), key=lambda p: p[0]):
        digest.update(json.dumps([name, upload.filename], ensure_ascii=False).encode())
        while block := upload.stream.read(1024 * 1024):
            digest.update(block)
        upload.stream.seek(0)
    return digest.hexdigest().encode()


def _json_body_bytes() -> bytes:
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(
            json.loads(raw.decode("utf-8-sig")) if raw.strip() else None,
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
    except (ValueError, RecursionError):
        body = raw  # not JSON: the view answers 400; compare the bytes
    return body


def lock_id(user_id: int, key: str) -> int:
    """The advisory lock's number for (user, key): 64 bits of a hash, signed as PostgreSQL's."""
    digest = hashlib.sha256(f"idempotency\0{user_id}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock(user_id: int, key: str) -> bool:
    """PostgreSQL: take this transaction's advisory lock on (user, key) if free. SQLite: True."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        db.session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(lock_id(user_id, key))))
    )


def begin(user: User | None) -> Response | None:
    """Before a write view: the stored answer to replay, or None to go on (the key noted).

    Raises :class:`KeyReused` and :class:`KeyInUse`. Without the header, or without a user (the
    view answers 401), nothing happens.
    """
    raw = request.headers.get(HEADER)
    if raw is None or user is None or request.method in SAFE_METHODS:
        return None
    key = parse_key(raw)
    if not _lock(user.id, key):
        raise KeyInUse(
            f"同じ {HEADER} の要求をまだ処理しています。少し待ってから同じ内容で送り直してください。"
        )
    fingerprint = _fingerprint()
    stored = db.session.scalar(
        sa.select(IdempotencyKey).where(
            IdempotencyKey.user_id == user.id, IdempotencyKey.key == key
        )
    )
    if stored is not None and stored.created_at < utcnow() - KEEP:
        db.session.delete(stored)  # expired: the key starts afresh (its new answer replaces it)
        db.session.flush()
        stored = None
    if stored is not None:
        if stored.fingerprint != fingerprint:
            raise KeyReused(
                f"この {HEADER} は別の内容の要求に使われています。新しい要求には新しいキーを使ってください。",
                {"key": key},
            )
        response = Response(stored.body, status=stored.status, mimetype="application/json")
        response.headers[REPLAYED] = "true"
        return response
    g.idempotency = _Pending(user.id, key, fingerprint)
    return None


def remember(response: Response) -> None:
    """Keep a 2xx answer under the request's key, in the transaction about to be committed."""
    pending: _Pending | None = g.pop("idempotency", None)
    if pending is None or not 200 <= response.status_code < 300:
        return
    db.session.add(
        IdempotencyKey(
            user_id=pending.user_id,
            key=pending.key,
            fingerprint=pending.fingerprint,
            status=response.status_code,
            body=response.get_data(as_text=True),
        )
    )
