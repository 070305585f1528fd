"""The April reshuffle (issue 18): a CSV of users to create, move and disable, previewed, then
applied in one transaction.

The file has a header line and the columns ``login,name,email,role,section,action`` (in any
order; the Japanese headers ログインID・氏名・メール・役割・課・操作 too), ``action`` being
``create``, ``update`` or ``disable``. On an ``update`` line an empty cell leaves that field as
it is; a ``disable`` line needs only its login. Users the file does not name are left alone.

:func:`read` decodes the bytes (UTF-8 with or without a BOM, else Excel's cp932);
:func:`check` turns the text into a :class:`Plan`: what each line would change, or every problem
with its line number. The plan is stored with the file (:class:`~workflow.models.UserImport`);
:func:`apply` checks the file again against the users and sections as they are then, and
refuses if the plan is no longer the one the admin saw.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import PydanticCustomError
from sqlalchemy import select

from workflow.errors import Conflict, ValidationFailed
from workflow.extensions import db
from workflow.models import Section, User, UserImport
from workflow.models._types import utcnow
from workflow.schemas.limits import NAME_MAX, storable
from workflow.schemas.types import check_text
from workflow.services import admin, audit_log
from workflow.services.audit_log import Via
from workflow.states.states import Role

COLUMNS = ("login", "name", "email", "role", "section", "action")
# The same columns as a Japanese spreadsheet heads them.
JAPANESE_COLUMNS = {
    "ログインID": "login",
    "氏名": "name",
    "メール": "email",
    "役割": "role",
    "課": "section",
    "操作": "action",
}
ACTIONS = ("create", "update", "disable")
ACTION_LABELS = {"create": "作成", "update": "更新", "disable": "無効化"}
FIELD_LABELS = {"display_name": "氏名", "email": "メール", "role": "役割", "section": "課"}

MAX_LINES = 10_000  # every member of staff of a large city, with room to spare
FILENAME_MAX = 255  # user_imports.filename

STALE_MESSAGE = "プレビューの後に利用者や課が変わりました。もう一度プレビューを確認してください。"


# -- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something wrong on one line of the file (line 1 is the header)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.line}行目: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class FieldChange:
    """One field of a user, before → after (before is None on a create)."""

    field: str
    before: str | bool | None
    after: str | bool | None

    def describe(self) -> str:
        after = _shown(self.field, self.after)
        if self.before is None:
            return f"{FIELD_LABELS[self.field]}: {after}"
        return f"{FIELD_LABELS[self.field]}: {_shown(self.field, self.before)} → {after}"


def _shown(name: str, value: str | bool | None) -> str:
    if name == "role" and isinstance(value, str):
        return f"{Role(value).label}（{value}）"
    return str(value) if value else "（なし）"


@dataclass(frozen=True)
class Change:
    """What one line of the file does: create a user, update one (only the fields that differ;
    none: 変更なし) or disable one (nothing to do if already disabled)."""

    line: int
    login: str
    action: str
    fields: tuple[FieldChange, ...] = ()
    noop: bool = False

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    def describe(self) -> str:
        """「役割: 所管課職員（department） → 庁議事務局（secretariat）、課: …」, or 変更なし."""
        if self.noop:
            return "変更なし（既に無効）" if self.action == "disable" else "変更なし"
        if self.action == "disable":
            return "無効にする（セッションを終了し、APIトークンは使えなくなる）"
        return "、".join(change.describe() for change in self.fields)

    def value(self, name: str) -> Any:
        """The new value of field *name* (for create and update)."""
        return next(change.after for change in self.fields if change.field == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "login": self.login,
            "action": self.action,
            "changes": [
                {"field": c.field, "before": c.before, "after": c.after} for c in self.fields
            ],
            "noop": self.noop,
        }


@dataclass
class Plan:
    """Every line's change, or the problems that keep the file from being applied."""

    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # The rows the check read, by login and by name: applying needs no second look-up per line.
    users: dict[str, User] = field(default_factory=dict, repr=False, compare=False)
    sections: dict[str, Section] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        """How many lines create, update and disable a user; 変更なし lines counted apart."""
        counts = {action: 0 for action in ACTIONS} | {"noop": 0}
        for change in self.changes:
            counts["noop" if change.noop else change.action] += 1
        return counts

    def summary(self) -> str:
        """「作成 3件・更新 5件・無効化 2件」 (and 変更なし when there are any)."""
        counts = self.counts()
        parts = [f"{ACTION_LABELS[action]} {counts[action]}件" for action in ACTIONS]
        if counts["noop"]:
            parts.append(f"変更なし {counts['noop']}件")
        return "・".join(parts)

    def to_json(self) -> list[dict[str, Any]]:
        """The plan as stored with the file (and compared with at apply)."""
        return [change.to_json() for change in self.changes]

    def problems_json(self) -> list[dict[str, Any]]:
        return [problem.to_json() for problem in self.problems]


class StalePreview(Conflict):
    """The users or sections changed since the preview: *plan* is what the file does now."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(STALE_MESSAGE, {"plan": plan.to_json(), "problems": plan.problems_json()})
        self.plan = plan


# -- reading the file ----------------------------------------------------------------------------


# What no CSV of names holds: NUL (UTF-16, a binary file), C1 controls, and the private-use
# characters Python's cp932 gives the bytes 0x80, 0xA0 and 0xFD–0xFF (no Shift_JIS text has them).
_NOT_TEXT = re.compile("[\x00\x80-\x9f\uf8f0-\uf8f3]")


def read(data: bytes) -> str:
    """The file as text: UTF-8 (a BOM dropped) or, failing that, Excel's Shift_JIS (cp932)."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _NOT_TEXT.search(text):
            return text.replace("\r\n", "\n").replace("\r", "\n")
    raise ValidationFailed.field(
        "file",
        "ファイルの文字コードを読み取れません。UTF-8 または Shift_JIS（Excel の「CSV（コンマ区切り）」）"
        "で保存したCSVファイルを選んでください。",
    )


@dataclass
class _Row:
    line: int
    cells: dict[str, str]


def _rows(text: str, problems: list[Problem]) -> Iterator[_Row]:
    """The data lines as {column: stripped cell}, with their line numbers; problems of the
    header, of blank lines and of the column count go to *problems*."""
    if "\x00" in text:
        problems.append(
            Problem(1, "CSVファイルではありません（バイナリのデータが含まれています）。")
        )
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    if not header or not any(cell.strip() for cell in header):
        problems.append(Problem(1, f"1行目を見出し行（{','.join(COLUMNS)}）にしてください。"))
        return
    columns = _header(header, problems)
    if columns is None:
        return
    line = reader.line_num + 1  # where the next record starts (a quoted cell may span lines)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            problems.append(
                Problem(
                    line,
                    'CSVとして読めません。引用符（"）が閉じているか、1つの欄が長すぎないか'
                    f"（{csv.field_size_limit():,}文字まで）を確かめてください。",
                )
            )
            return
        if line > MAX_LINES:
            problems.append(Problem(line, f"1つのファイルは{MAX_LINES:,}行までにしてください。"))
            return
        if not any(cell.strip() for cell in cells):
            problems.append(Problem(line, "空行です。"))
        elif len(cells) != len(columns):
            problems.append(
                Problem(line, f"列の数が{len(columns)}ではありません（{len(cells)}列）。")
            )
        else:
            yield _Row(
                line, {name: cell.strip() for name, cell in zip(columns, cells, strict=True)}
            )
        line = reader.line_num + 1


def _header(header: list[str], problems: list[Problem]) -> list[str] | None:
    """The column of each position, or None (with problems) when the header is not right."""
    names = [JAPANESE_COLUMNS.get(cell.strip(), cell.strip().lower()) for cell in header]
    if not set(names) & set(COLUMNS):
        problems.append(
            Problem(
                1, f"1行目が見出し行ではありません。1行目を「{','.join(COLUMNS)}」にしてください。"
            )
        )
        return None
    columns: list[str] = []
    for cell in header:
        name = cell.strip()
        name = JAPANESE_COLUMNS.get(name, name.lower())
        if name not in COLUMNS:
            problems.append(
                Problem(1, f"見出し「{cell.strip()}」は使えません（{','.join(COLUMNS)}）。")
            )
        elif name in columns:
            problems.append(Problem(1, f"見出し「{cell.strip()}」が2回あります。"))
        columns.append(name)
    missing = [name for name in COLUMNS if name not in columns]
    if missing:
        problems.append(
            Problem(
                1, f"見出し行に列「{'」「'.join(missing)}」がありません（{','.join(COLUMNS)}）。"
            )
        )
    return None if problems else columns


# -- checking the lines --------------------------------------------------------------------------


class _Refused(Exception):
    """A problem of the line being checked: the line is left out of the plan."""


def check(text: str, *, actor: User | None = None) -> Plan:
    """What the file would do to the users now, line by line, or every problem with its line.

    *actor* is the admin who will apply it (None on the CLI): they cannot disable themself.
    """
    plan = Plan()
    rows = list(_rows(text, plan.problems))
    logins = {row.cells["login"] for row in rows}
    if logins:
        found = db.session.scalars(select(User).where(User.login.in_(logins)))
        plan.users = {user.login: user for user in found}
    plan.sections = {section.name: section for section in db.session.scalars(select(Section))}
    users, sections = plan.users, plan.sections
    seen: dict[str, int] = {}
    for row in rows:
        login = row.cells["login"]
        try:
            if not login:
                raise _Refused("ログインID（login）を入力してください。")
            if login in seen:
                raise _Refused(f"ログインID「{login}」が{seen[login]}行目と重複しています。")
            seen[login] = row.line
            change = _line(row, users.get(login), sections, actor)
        except _Refused as refused:
            plan.problems.append(Problem(row.line, str(refused)))
        else:
            plan.changes.append(change)
    plan.problems.extend(_admins_left(plan.changes))
    if not rows and not plan.problems:
        plan.problems.append(
            Problem(2, "利用者の行がありません。2行目から1行に1人ずつ書いてください。")
        )
    plan.problems.sort(key=lambda problem: problem.line)
    return plan


def _line(row: _Row, user: User | None, sections: dict[str, Section], actor: User | None) -> Change:
    cells, login = row.cells, row.cells["login"]
    action = cells["action"].lower()
    if action not in ACTIONS:
        if not action:
            raise _Refused(f"操作（action）を入力してください（{'・'.join(ACTIONS)}）。")
        raise _Refused(f"操作「{cells['action']}」はありません（{'・'.join(ACTIONS)}）。")
    if action == "create":
        if user is not None:
            raise _Refused(f"ログインID「{login}」は既に使われています。")
        return _create(row, sections)
    if user is None:
        raise _Refused(f"ログインID「{login}」の利用者はいません。")
    if action == "disable":
        if actor is not None and user.id == actor.id:
            raise _Refused("自分自身を無効にすることはできません。")
        if not user.active:
            return Change(row.line, login, action, noop=True)
        return Change(row.line, login, action, (FieldChange("active", True, False),))
    if not user.active:
        raise _Refused(
            f"ログインID「{login}」の利用者は無効にされています。有効にしてから取り込んでください。"
        )
    return _update(row, user, sections)


def _create(row: _Row, sections: dict[str, Section]) -> Change:
    cells, login = row.cells, row.cells["login"]
    _refused_by(admin.check_login, login)
    if not cells["name"]:
        raise _Refused("新しい利用者には氏名（name）を入力してください。")
    if not cells["role"]:
        raise _Refused(f"新しい利用者には役割（role）を入力してください（{admin.ROLES_TEXT}）。")
    name, email, role = _name(cells["name"]), _email(cells["email"]), _role(cells["role"])
    section = _section(cells["section"], sections) if cells["section"] else None
    if role is Role.DEPARTMENT and section is None:
        raise _Refused("所管課職員（department）には課（section）を指定してください。")
    fields = [FieldChange("display_name", None, name), FieldChange("role", None, role.value)]
    if section is not None:
        fields.append(FieldChange("section", None, section.name))
    if email:
        fields.append(FieldChange("email", None, email))
    return Change(row.line, login, "create", tuple(fields))


def _update(row: _Row, user: User, sections: dict[str, Section]) -> Change:
    """Only the cells given, and of those only the ones that differ from the user now."""
    cells = row.cells
    name = _name(cells["name"]) if cells["name"] else user.display_name
    email = _email(cells["email"]) if cells["email"] else user.email
    role = _role(cells["role"]) if cells["role"] else user.role
    section = (
        _section(cells["section"], sections, keep=user.section)
        if cells["section"]
        else user.section
    )
    if role is Role.DEPARTMENT and section is None:
        raise _Refused("所管課職員（department）には課（section）を指定してください。")
    now = {
        "display_name": name,
        "email": email,
        "role": role.value,
        "section": section.name if section else None,
    }
    before = {
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role.value,
        "section": user.section.name if user.section else None,
    }
    fields = tuple(
        FieldChange(key, before[key], now[key]) for key in now if now[key] != before[key]
    )
    return Change(row.line, user.login, "update", fields, noop=not fields)


def _name(value: str) -> str:
    try:
        return check_text(value, NAME_MAX, required=True)
    except PydanticCustomError as exc:
        raise _Refused(f"氏名「{value}」: {exc.message()}") from None


def _email(value: str) -> str | None:
    return _refused_by(admin.check_email, value)


def _refused_by(check: Callable[[str], Any], value: str) -> Any:
    """*check* of the admin service (the same rule as every other way in), its refusal as the
    line's problem."""
    try:
        return check(value)
    except ValidationFailed as refused:
        raise _Refused(refused.message) from None


def _role(value: str) -> Role:
    for role in Role:
        if value.lower() == role.value or value == role.label:
            return role
    raise _Refused(f"役割「{value}」はありません（{admin.ROLES_TEXT}）。")


def _section(name: str, sections: dict[str, Section], *, keep: Section | None = None) -> Section:
    """The section named *name*; a retired one only if it is *keep* (where the user is now)."""
    section = sections.get(name)
    if section is None:
        raise _Refused(f"課「{name}」は登録されていません。")
    if section.retired_at is not None and section is not keep:
        raise _Refused(f"課「{name}」は廃止されています。")
    return section


def _admins_left(changes: list[Change]) -> list[Problem]:
    """The lines that would leave no active admin, if the file as a whole would."""
    admins = set(db.session.scalars(select(User.login).where(User.role == Role.ADMIN, User.active)))
    removing = []
    for change in changes:
        if change.noop:
            continue
        if change.action == "disable" and change.login in admins:
            admins.discard(change.login)
            removing.append(change)
        elif change.action in ("create", "update"):
            role = {c.field: c.after for c in change.fields}.get("role")
            if role == Role.ADMIN.value:
                admins.add(change.login)
            elif role is not None and change.login in admins:
                admins.discard(change.login)
                removing.append(change)
    if admins:
        return []
    return [
        Problem(
            change.line,
            f"この行で「{change.login}」が管理者でなくなると、有効なシステム管理者"
            "（admin）が一人もいなくなります。",
        )
        for change in removing
    ]


# -- storing and applying ------------------------------------------------------------------------


def store(actor: User | None, filename: str, data: bytes, text: str, plan: Plan) -> UserImport:
    """Keep a clean file and its preview until it is applied."""
    # The name as the admin's computer called it, without a folder; one that cannot be stored
    # or shown on one line gives way to a plain one.
    filename = re.split(r"[\\/]", filename)[-1].strip()
    if not filename or not storable(filename, one_line=True):
        filename = "reshuffle.csv"
    row = UserImport(
        filename=filename[:FILENAME_MAX],
        content=text,
        sha256=hashlib.sha256(data).hexdigest(),
        plan=plan.to_json(),
        created_by=actor,
    )
    db.session.add(row)
    db.session.flush()
    return row


def preview(user_import: UserImport) -> Plan:
    """The stored preview as a plan (what the admin saw when the file was uploaded)."""
    return Plan(
        changes=[
            Change(
                entry["line"],
                entry["login"],
                entry["action"],
                tuple(FieldChange(c["field"], c["before"], c["after"]) for c in entry["changes"]),
                entry["noop"],
            )
            for entry in user_import.plan
        ]
    )


def apply(actor: User | None, via: Via, user_import: UserImport) -> Plan:
    """Apply every line of *user_import* in the caller's transaction, with its audit rows.

    The file is checked again against the database now: if it would no longer do what its
    preview said (a user or section changed meanwhile), :class:`StalePreview`; an import is
    applied once only (its row is locked, so two admins pressing 適用する at once apply it once).
    """
    db.session.refresh(user_import, with_for_update=True)
    if user_import.applied_at is not None:
        raise Conflict("このファイルは既に適用されています。")
    plan = check(user_import.content, actor=actor)
    if not plan.ok or plan.to_json() != user_import.plan:
        raise StalePreview(plan)
    for change in sorted(plan.changes, key=_order):
        if not change.noop:
            _apply_change(actor, via, change, plan)
    user_import.applied_at = utcnow()
    user_import.applied_by = actor
    audit_log.record(
        actor,
        via,
        "user_import.apply",
        "user_import",
        user_import.id,
        user_import.filename,
        after={"sha256": user_import.sha256, **plan.counts()},
    )
    db.session.flush()
    return plan


def digest(user_import: UserImport) -> str:
    """A fingerprint of the stored preview, for a page to say which preview it showed."""
    text = json.dumps(user_import.plan, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def renew(user_import: UserImport, plan: Plan) -> None:
    """Make *plan* (a clean one, as checked now) the preview to confirm before applying."""
    user_import.plan = plan.to_json()
    db.session.flush()


def _order(change: Change) -> int:
    """Creates, then updates (those giving the admin role first), then disables: no step on the
    way leaves fewer admins than the end, so the last-admin rule refuses nothing the file's
    check allowed."""
    if change.action == "create":
        return 0
    if change.action == "update":
        gives_admin = any(c.field == "role" and c.after == Role.ADMIN.value for c in change.fields)
        return 1 if gives_admin else 2
    return 3


def _apply_change(actor: User | None, via: Via, change: Change, plan: Plan) -> None:
    new = {c.field: c.after for c in change.fields}
    section = plan.sections[new["section"]] if new.get("section") else None
    if change.action == "create":
        admin.create_user(
            actor,
            via,
            login=change.login,
            display_name=new["display_name"],
            role=Role(new["role"]),
            section=section,
            email=new.get("email"),
            password=None,
        )
        return
    user = plan.users[change.login]
    if change.action == "disable":
        admin.disable_user(actor, via, user, reason="人事異動の取込")
        return
    updates: dict[str, Any] = {}
    if "display_name" in new:
        updates["display_name"] = new["display_name"]
    if "email" in new:
        updates["email"] = new["email"]
    if "role" in new:
        updates["role"] = Role(new["role"])
    if "section" in new:
        updates["section"] = section
    admin.update_user(actor, via, user, **updates)
