"""A notice by e-mail (job ``mail_notice``, run by `flask worker`): plain-text Japanese mail,
UTF-8 or ISO-2022-JP (``MAIL_CHARSET``), handed to ``MAIL_SERVER`` by SMTP.

The notice was written with its job in the transaction of the change (workflow.services.notices),
so a mail is never lost: the worker retries it with backoff (``JOB_RETRY_SECONDS`` doubling, up to
``MAIL_MAX_ATTEMPTS`` attempts) while the mail server is down, slow or answers 4xx, and marks the
notice ``failed`` only when it gives up, or at once when the server refuses the message for good
(5xx for the recipient or the message).

At least once: the notice is marked ``sent`` and committed as soon as the server accepted the
message. A worker that dies between the two leaves its job ``running``; another worker takes it
again after ``JOB_STALE_SECONDS`` and sends the mail again, with the same ``Message-ID``
(:func:`message_id`), so that the reader's mail server or client can drop the copy.
"""

from __future__ import annotations

import logging
import os
import smtplib
import time
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

from flask import current_app
from sqlalchemy import update

from workflow.extensions import db
from workflow.jobs import FinalError, handler
from workflow.models import Notice, User
from workflow.models._types import utcnow
from workflow.models.notice import MAIL_FAILED, MAIL_NONE, MAIL_PENDING, MAIL_SENT
from workflow.services.notices import MAIL_JOB, wants_mail
from workflow.services.public_comment import city_zone

log = logging.getLogger(__name__)

SUBJECT_PREFIX = "【庁議】"
CHOICE_PATH = "/account/notices"  # where a user chooses e-mail or in-app only
JIS = "iso-2022-jp"

# Characters Windows (CP932) users type that ISO-2022-JP (JIS X 0208) spells with another code
# point: the same glyph, so they are mapped rather than lost. Anything else JIS cannot spell (①,
# 髙, an emoji) sends that one mail in UTF-8 instead.
_JIS_VARIANTS = str.maketrans(
    {
        "\uff5e": "\u301c",  # ～ FULLWIDTH TILDE → 〜 WAVE DASH
        "\u2225": "\u2016",  # ∥ PARALLEL TO → ‖ DOUBLE VERTICAL LINE
        "\uff0d": "\u2212",  # － FULLWIDTH HYPHEN-MINUS → − MINUS SIGN
        "\uffe0": "\u00a2",  # ￠ → ¢
        "\uffe1": "\u00a3",  # ￡ → £
        "\uffe2": "\u00ac",  # ￢ → ¬
    }
)

# SMTP replies that concern this one message (its recipient, its content): trying again brings
# the same answer. A refused sender or login is the server's set-up, mended by its operator:
# those are retried like an outage, so notices wait instead of failing one by one.
_PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)

# Tests only: a path; after the server accepted a message the worker creates that file and waits
# there to be killed (the gap between the server's acceptance and the notice's commit).
_HOLD_AFTER_SEND = "CHOGI_TEST_MAIL_HOLD_AFTER_SEND"


def _max_attempts() -> int:
    return int(current_app.config["MAIL_MAX_ATTEMPTS"])


def _mark_failed(exc: Exception, notice_id: int) -> None:
    """The job was given up: the notice's mail is ``failed`` (it stays in the app)."""
    notice = db.session.get(Notice, notice_id, with_for_update=True)
    if notice is not None and notice.mail_status == MAIL_PENDING:
        notice.mail_status = MAIL_FAILED
    log.warning("notice %s: mail given up: %s", notice_id, exc)


@handler(MAIL_JOB, on_give_up=_mark_failed, max_attempts=_max_attempts)
def mail_notice(notice_id: int) -> None:
    """Hand notice *notice_id*'s mail to the mail server, once it is still wanted."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.mail_status != MAIL_PENDING:
        db.session.rollback()  # sent already (a job run again after its worker died), or gone
        return
    if not (notice.user.active and wants_mail(notice.user)):
        # The address was removed, in-app only chosen or the account disabled since: committed
        # with the job's done.
        notice.mail_status = MAIL_NONE
        return
    message = build_message(notice, notice.user)
    # No transaction while talking to the mail server: on SQLite it would hold the write lock.
    db.session.commit()
    send(message)
    _hold_for_tests()
    db.session.execute(
        update(Notice)
        .where(Notice.id == notice_id, Notice.mail_status == MAIL_PENDING)
        .values(mail_status=MAIL_SENT, mailed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    # At once: a worker dying from here on no longer sends it twice.
    db.session.commit()


def send(message: Message) -> None:
    """Hand *message* to MAIL_SERVER; a refusal for good raises :class:`FinalError`."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        # This worker was started without the setting the app servers have: wait for one with it.
        raise RuntimeError("MAIL_SERVER is not set for this worker")
    try:
        with smtplib.SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT_SECONDS"]
        ) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(500 <= code < 600 for code in codes):
            raise FinalError(f"mail server refused the recipient: {_replies(exc)}") from exc
        raise
    except _PERMANENT as exc:
        if 500 <= exc.smtp_code < 600:
            raise FinalError(
                f"mail server refused the message: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        raise


def _replies(exc: smtplib.SMTPRecipientsRefused) -> str:
    return "; ".join(
        f"{address} {code} {_text(text)}" for address, (code, text) in exc.recipients.items()
    )


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _hold_for_tests() -> None:
    path = os.environ.get(_HOLD_AFTER_SEND)
    if not path:
        return
    with open(path, "w") as marker:
        marker.write(str(os.getpid()))
    while True:  # until the test kills this worker
        time.sleep(1)


# -- the message ------------------------------------------------------------------------------


def message_id(notice: Notice) -> str:
    """The same for every copy of a notice's mail, so a copy sent again is recognised."""
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    return f"<chogi-notice-{notice.id}@{domain}>"


def message_text(notice: Notice, user: User) -> str:
    """The mail's body: to whom, what happened, the link, and where to change the choice."""
    base = current_app.config["PUBLIC_BASE_URL"]
    parts = [f"{user.display_name} 様", "", notice.title]
    if notice.body:
        parts += ["", notice.body.rstrip()]
    if notice.url:
        parts += ["", "詳しくは次のページをご覧ください。", f"{base}{notice.url}"]
    parts += [
        "",
        "-- ",
        "このメールは庁議システムから自動で送信しています。返信されてもお答えできません。",
        "メールで受け取るか、システムの画面だけで確認するかは、次のページで変更できます。",
        f"{base}{CHOICE_PATH}",
    ]
    return "\n".join(parts) + "\n"


def build_message(notice: Notice, user: User) -> Message:
    """The mail of *notice* to *user*, in MAIL_CHARSET (UTF-8 where JIS cannot spell it)."""
    config = current_app.config
    subject = SUBJECT_PREFIX + notice.title
    text = message_text(notice, user)
    headers = {
        "From": config["MAIL_FROM"],
        "Date": format_datetime(datetime.now(city_zone())),
        "Message-ID": message_id(notice),
    }
    if config["MAIL_CHARSET"] == JIS:
        jis = [part.translate(_JIS_VARIANTS) for part in (subject, text, user.display_name)]
        if all(_spells(part, JIS) for part in jis):
            return _jis_message(*jis, user.email, headers)
        log.info("notice %s: not all of it is in ISO-2022-JP; sent in UTF-8", notice.id)
    message = EmailMessage()
    message["Subject"] = subject
    message["To"] = Address(display_name=user.display_name, addr_spec=user.email)
    for name, value in headers.items():
        message[name] = value
    message.set_content(text, charset="utf-8")
    return message


def _jis_message(
    subject: str, text: str, display_name: str, address: str, headers: dict[str, str]
) -> Message:
    """The classic Japanese mail: ISO-2022-JP in 7 bits, headers as encoded words.

    The stdlib's newer EmailMessage encodes every header in UTF-8; its compat32 classes are the
    ones that write JIS headers.
    """
    message = MIMEText(text, "plain", JIS)  # Content-Transfer-Encoding: 7bit
    message["Subject"] = Header(subject, JIS)
    message["To"] = formataddr((display_name, address), charset=JIS)
    for name, value in headers.items():
        message[name] = value
    sender_name, sender = parseaddr(headers["From"])
    if sender_name and _spells(sender_name, JIS):  # 「庁議システム <chogi@…>」
        message.replace_header("From", formataddr((sender_name, sender), charset=JIS))
    return message


def _spells(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True
