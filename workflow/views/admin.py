"""The admin's screens (role ``admin``): users and their API tokens, sections, meeting kinds, the
accounts under attack and the record of admin changes.

Every change goes through :mod:`workflow.services.admin` (the rules the API and the CLI share)
and commits with its audit row, or not at all. A temporary password or a new token is shown
once, in the answer to the POST that made it: it is stored nowhere (not even in the signed
session cookie, which anyone holding it can read), so reloading the user's page never shows it
again.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from workflow import deadlines
from workflow.errors import Conflict, NotFound, ValidationFailed, WorkflowError
from workflow.extensions import db, login_manager
from workflow.forms._choices import options
from workflow.forms.admin import (
    NO_SECTION,
    ButtonForm,
    ClosedDayForm,
    DisableForm,
    MeetingDeadlineForm,
    MeetingKindForm,
    MergeSectionForm,
    MoveSectionForm,
    NewMeetingKindForm,
    NewUserForm,
    RenameSectionForm,
    ResetPasswordForm,
    RetireSectionForm,
    SectionForm,
    TokenForm,
    UnlockLoginForm,
    UserForm,
    section_choices,
)
from workflow.models import ApiToken, ClosedDay, Meeting, MeetingKind, Section, User
from workflow.permissions import is_admin
from workflow.queries import admin as queries
from workflow.queries.sign_in import accounts_under_attack, addresses_under_attack
from workflow.schemas.limits import ID_MAX, QUERY_MAX
from workflow.services import admin
from workflow.sign_in_limits import Limits
from workflow.states.states import Role
from workflow.views import jst_minute
from workflow.views.common import PER_PAGE, Page, attempt
from workflow.wareki import to_wareki

bp = Blueprint("admin", __name__, url_prefix="/admin")

# What each admin change is called on the pages (history rows ``admin.<event>``).
EVENT_LABELS = {
    "admin.user.create": "利用者を登録",
    "admin.user.update": "利用者の情報を変更",
    "admin.user.disable": "利用者を無効化",
    "admin.user.enable": "利用者を有効化",
    "admin.user.password": "パスワードを設定",
    "admin.user.password_reset": "パスワードをリセット",
    "admin.user.reset_password": "パスワードをリセット",
    "admin.user.end_sessions": "セッションを終了",
    "admin.user.unlock": "ロック解除",
    "admin.token.issue": "APIトークンを発行",
    "admin.token.revoke": "APIトークンを失効",
    "admin.section.create": "課を登録",
    "admin.section.rename": "課の名前を変更",
    "admin.section.move": "課の所属を変更",
    "admin.section.merge": "課を統合",
    "admin.section.retire": "課を廃止",
    "admin.meeting_kind.create": "会議の種類を追加",
    "admin.meeting_kind.update": "会議の種類を変更",
    "admin.user_import.apply": "人事異動の一括反映",
    "admin.closed_day.add": "閉庁日を登録",
    "admin.closed_day.remove": "閉庁日を削除",
    "admin.meeting.deadline": "会議の申込締切を設定",
}
SUBJECT_LABELS = {
    "user": "利用者",
    "section": "課",
    "token": "APIトークン",
    "meeting_kind": "会議の種類",
    "user_import": "一括反映",
    "login": "ログインID",
    "closed_day": "閉庁日",
    "meeting": "会議",
}
# The fields a change names in ``before`` / ``after``.
FIELD_LABELS = {
    "login": "ログインID",
    "display_name": "表示名",
    "email": "メールアドレス",
    "role": "役割",
    "section": "課",
    "active": "状態",
    "must_change_password": "パスワード変更待ち",
    "name": "名称",
    "bureau": "局・区",
    "division": "部",
    "merged_into": "統合先",
    "retired": "廃止",
    "level": "レベル",
    "sort_order": "表示順",
    "review": "事前調整",
    "deadline_days": "申込締切（開庁日数）",
    "expires_at": "有効期限",
    "revoked_at": "失効",
    "retired_at": "廃止",
    "unlocked_at": "ロック解除",
    "sessions_ended": "終了したセッション",
    "tokens_revoked": "失効したAPIトークン",
    "items_moved": "移った案件",
    "users_moved": "移った利用者",
    "password": "パスワード",
    "directory": "ディレクトリ（LDAP）",
    "user": "利用者",
    "sha256": "ファイルのSHA-256",
    "create": "作成",
    "update": "更新",
    "disable": "無効化",
    "noop": "変更なし",
    "day": "日付",
    "deadline_override": "申込締切（この会議だけ）",
}
# Values that count something: 「3件」, 「2人」.
COUNT_UNITS = {
    "sessions_ended": "件",
    "tokens_revoked": "件",
    "items_moved": "件",
    "users_moved": "人",
    "create": "件",
    "update": "件",
    "disable": "件",
    "noop": "件",
}
# Fields whose value is a day (YYYY-MM-DD), shown in 和暦.
DAY_FIELDS = {"day", "deadline_override"}
VALUE_LABELS = {"password": {"changed": "変更", "reset": "リセット（仮パスワード）"}}
ROLE_LABELS = {r.value: r.label for r in Role}
# The fields whose value must be unique: a Conflict naming one is shown beside it.
# A resubmitted form (a reload of the page that showed the secret) changes nothing.
ALREADY_RESET = (
    "このパスワードは既にリセットされています。"
    "もう一度リセットするには、利用者の画面から操作してください。"
)
ALREADY_ISSUED = (
    "このAPIトークンは既に発行されています。"
    "もう一つ発行するには、利用者の画面から操作してください。"
)

TAKEN_FIELDS = {"login", "name", "code"}


@bp.before_request
def admins_only() -> Response | None:
    """Every screen here is the admin's: others get the 403 page, a visitor the sign-in page."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not is_admin(current_user):
        abort(403)
    return None


def _attempt(form, change: Callable[[], Any]) -> WorkflowError | None:
    """:func:`attempt`, with a value already taken (a login ID, a name, a code) beside its field."""
    return attempt(form, change, place=_taken_onto_form)


def _taken_onto_form(form, error: WorkflowError) -> bool:
    """A Conflict over a value already taken (a login ID, a name, a code) names its field in
    ``details``: its message goes beside that field (and in the error summary); whether it did."""
    if not isinstance(error, Conflict):
        return False
    placed = False
    for key in TAKEN_FIELDS & set(error.details):
        if (field := form._fields.get(key)) is not None:
            field.errors = [*field.errors, error.message]
            placed = True
    return placed


def _no_store(body: str, status: int = 200) -> Response:
    """A page carrying a secret shown once: no cache may keep it. 201 when it shows what was just
    created (a user, a token)."""
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


# -- 管理 ----------------------------------------------------------------------------------------


@bp.get("/")
def index() -> str:
    return render_template(
        "admin/index.html",
        attacked=accounts_under_attack(),
        addresses=addresses_under_attack(),
        window_minutes=int(Limits.configured().window.total_seconds() // 60),
        form=ButtonForm(),
    )


@bp.post("/unlock")
def unlock_login() -> Response:
    """「ロック解除」 of an account under attack, named by its login ID."""
    form = UnlockLoginForm()
    if not form.validate():
        flash("画面を読み込み直してから、もう一度操作してください。", "error")
        return redirect(url_for("admin.index"))
    login = form.login.data
    try:
        user = admin.user_by_login(login)
    except NotFound:
        flash(f"「{login}」という利用者はいないため、解除するロックはありません。", "info")
        return redirect(url_for("admin.index"))
    if _attempt(None, lambda: admin.unlock(current_user, "web", user)) is None:
        flash(f"{user.display_name}（{user.login}）のロックを解除しました。", "success")
    return redirect(url_for("admin.index"))


# -- users ---------------------------------------------------------------------------------------


def _load_user(user_id: int) -> User:
    return db.get_or_404(User, user_id)


def _role_filter() -> Role | None:
    value = request.args.get("role", "")
    return Role(value) if value in ROLE_LABELS else None


@bp.get("/users")
def users() -> str:
    text = request.args.get("q", "").strip()[:QUERY_MAX]
    role = _role_filter()
    page = Page.requested()
    rows = list(db.session.scalars(page.cut(queries.users(text, role))).unique())
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "admin/users.html",
        users=rows[:PER_PAGE],
        **page.context(rows, lambda n: url_for("admin.users", **args, page=n)),
        q=text,
        role=role.value if role else "",
        roles=list(Role),
    )


def _sections_for(form, current: Section | None = None) -> None:
    """The 課 select: the active sections, and the user's own one even if it was retired."""
    sections = queries.active_sections()
    if current is not None and current not in sections:
        sections.append(current)
    form.section.choices = section_choices(sections)


def _chosen_section(form) -> Section | None:
    """The section the form's select names (None: 「（なし）」); a field error for an id that
    names none (the page was older than a change)."""
    value = form.section.data or NO_SECTION
    if value == NO_SECTION:
        return None
    is_id = value.isascii() and value.isdigit() and int(value) <= ID_MAX
    section = db.session.get(Section, int(value)) if is_id else None
    if section is None:
        raise ValidationFailed.field("section", "課を一覧から選んでください。")
    return section


def _email(form) -> str | None:
    return (form.email.data or "").strip() or None


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = NewUserForm()
    _sections_for(form)
    if request.method == "GET":
        form.role.data = Role.DEPARTMENT.value
        return render_template("admin/user_new.html", form=form)
    if not form.validate():
        return render_template("admin/user_new.html", form=form), 422
    made: dict[str, Any] = {}

    # A first password to hand over, changed at the first sign-in: one audit row, the creation.
    password = admin.temporary_password()

    def create() -> None:
        user = admin.create_user(
            current_user,
            "web",
            login=form.login.data.strip(),
            display_name=form.display_name.data.strip(),
            role=Role(form.role.data),
            section=_chosen_section(form),
            email=_email(form),
            password=password,
            must_change_password=True,
        )
        made["user"], made["password"] = user, password

    if error := _attempt(form, create):
        return render_template("admin/user_new.html", form=form), error.http_status
    user = made["user"]
    return _no_store(
        render_template(
            "admin/secret.html",
            user=user,
            title="利用者を登録しました",
            lead=f"{user.display_name}（{user.login}）を登録しました。",
            kind="初期パスワード",
            secret=made["password"],
            note="この画面を閉じると二度と表示されません。本人に安全な方法で伝えてください。"
            "最初のログインで新しいパスワードに変更してもらいます。",
        ),
        201,
    )


def _user_page(user: User, status: int = 200, **forms) -> tuple[str, int]:
    """The user's page; *forms* are those sent back with their errors, the rest start empty."""
    edit = forms.get("edit")
    if edit is None:
        edit = UserForm(
            formdata=None,
            data={
                "display_name": user.display_name,
                "email": user.email or "",
                "role": user.role.value,
                "section": str(user.section_id) if user.section_id else NO_SECTION,
            },
        )
    _sections_for(edit, user.section)
    return render_template(
        "admin/user.html",
        user=user,
        form=edit,
        disable_form=forms.get("disable") or DisableForm(formdata=None, prefix="disable"),
        token_form=forms.get("token")
        or TokenForm(formdata=None, prefix="token", newest=str(queries.newest_token_id(user))),
        reset_form=ResetPasswordForm(formdata=None, stamp=queries.password_stamp(user)),
        button=ButtonForm(formdata=None),
        tokens=queries.tokens(user),
        audit=queries.user_audit_rows(user),
        is_self=user.id == current_user.id,
        **_audit_helpers(),
    ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    user = _load_user(user_id)
    if request.method == "GET":
        return _user_page(user)
    form = UserForm()
    _sections_for(form, user.section)
    if not form.validate():
        return _user_page(user, 422, edit=form)
    changed: list[bool] = []

    def update() -> None:
        changed.append(
            admin.update_user(
                current_user,
                "web",
                user,
                display_name=form.display_name.data.strip(),
                email=_email(form),
                role=Role(form.role.data),
                section=_chosen_section(form),
            )
        )

    if error := _attempt(form, update):
        return _user_page(_load_user(user_id), error.http_status, edit=form)
    flash("変更を保存しました。" if changed[0] else "変更はありませんでした。", "success")
    return redirect(url_for("admin.user", user_id=user.id))


def _user_action(user_id: int, change: Callable[[User], Any], done: str) -> Response:
    """A button on the user's page with nothing to fill in: do it, flash *done* (formatted with
    the user) or the refusal, and go back to the page."""
    user = _load_user(user_id)
    if not ButtonForm().validate():
        flash("画面を読み込み直してから、もう一度操作してください。", "error")
    elif _attempt(None, lambda: change(user)) is None:
        flash(done.format(user=user), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/disable")
def disable_user(user_id: int):
    user = _load_user(user_id)
    form = DisableForm(prefix="disable")
    if not form.validate():
        return _user_page(user, 422, disable=form)
    reason = (form.reason.data or "").strip()
    if error := _attempt(form, lambda: admin.disable_user(current_user, "web", user, reason)):
        return _user_page(_load_user(user_id), error.http_status, disable=form)
    flash(f"{user.display_name}（{user.login}）を無効にしました。", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/enable")
def enable_user(user_id: int) -> Response:
    return _user_action(
        user_id,
        lambda user: admin.enable_user(current_user, "web", user),
        "{user.display_name}（{user.login}）を有効にしました。",
    )


@bp.post("/users/<int:user_id>/end-sessions")
def end_sessions(user_id: int) -> Response:
    return _user_action(
        user_id,
        lambda user: admin.end_sessions(current_user, "web", user),
        "{user.display_name}（{user.login}）のセッションをすべて終了しました。",
    )


@bp.post("/users/<int:user_id>/unlock")
def unlock_user(user_id: int) -> Response:
    return _user_action(
        user_id,
        lambda user: admin.unlock(current_user, "web", user),
        "{user.display_name}（{user.login}）のロックを解除しました。",
    )


@bp.post("/users/<int:user_id>/reset-password")
def reset_password(user_id: int):
    user = _load_user(user_id)
    form = ResetPasswordForm()
    if not form.validate():
        flash("画面を読み込み直してから、もう一度操作してください。", "error")
        return redirect(url_for("admin.user", user_id=user_id))
    if not hmac.compare_digest(form.stamp.data, queries.password_stamp(user)):
        flash(ALREADY_RESET, "info")
        return redirect(url_for("admin.user", user_id=user_id))
    made: list[str] = []
    if _attempt(None, lambda: made.append(admin.reset_password(current_user, "web", user))):
        return redirect(url_for("admin.user", user_id=user_id))
    return _no_store(
        render_template(
            "admin/secret.html",
            user=user,
            title="パスワードをリセットしました",
            lead=f"{user.display_name}（{user.login}）の仮パスワードです。",
            kind="仮パスワード",
            secret=made[0],
            note="この画面を閉じると二度と表示されません。本人に安全な方法で伝えてください。"
            "次のログインで新しいパスワードに変更してもらいます。これまでのセッションは終了しました。",
        )
    )


@bp.post("/users/<int:user_id>/tokens")
def issue_token(user_id: int):
    user = _load_user(user_id)
    form = TokenForm(prefix="token")
    if not form.validate():
        return _user_page(user, 422, token=form)
    if form.newest.data != str(queries.newest_token_id(user)):
        flash(ALREADY_ISSUED, "info")
        return redirect(url_for("admin.user", user_id=user_id))
    made: list[tuple[ApiToken, str]] = []

    def issue() -> None:
        name = (form.name.data or "").strip()
        made.append(admin.issue_token(current_user, "web", user, name=name, days=form.days.data))

    if error := _attempt(form, issue):
        return _user_page(_load_user(user_id), error.http_status, token=form)
    token, plain = made[0]
    return _no_store(
        render_template(
            "admin/secret.html",
            user=user,
            token=token,
            title="APIトークンを発行しました",
            lead=f"{user.display_name}（{user.login}）のAPIトークン"
            f"{'「' + token.name + '」' if token.name else ''}です。",
            kind="APIトークン",
            secret=plain,
            note="この画面を閉じると二度と表示されません。使う人に安全な方法で渡してください。"
            "Authorization: Bearer の後に付けて送ります。",
        ),
        201,
    )


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
def revoke_token(user_id: int, token_id: int) -> Response:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        abort(404)
    label = f"「{token.name}」" if token.name else f"（番号{token.id}）"
    return _user_action(
        user_id,
        lambda _user: admin.revoke_token(current_user, "web", token),
        f"APIトークン{label}を失効させました。",
    )


# -- sections ------------------------------------------------------------------------------------


@bp.route("/sections", methods=["GET", "POST"])
def sections():
    form = SectionForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            made: list[Section] = []

            def create() -> None:
                made.append(
                    admin.create_section(
                        current_user,
                        "web",
                        name=form.name.data.strip(),
                        bureau=(form.bureau.data or "").strip(),
                        division=(form.division.data or "").strip(),
                    )
                )

            error = _attempt(form, create)
            if error is None:
                flash(f"課「{made[0].name}」を登録しました。", "success")
                return redirect(url_for("admin.sections"))
            status = error.http_status
        else:
            status = 422
    return render_template("admin/sections.html", rows=queries.sections(), form=form), status


def _load_section(section_id: int) -> Section:
    return db.get_or_404(Section, section_id)


def _section_page(section: Section, status: int = 200, **forms) -> tuple[str, int]:
    merge = forms.get("merge") or MergeSectionForm(formdata=None, prefix="merge")
    _merge_choices(merge, section)
    return render_template(
        "admin/section.html",
        section=section,
        merged_into=db.session.get(Section, section.merged_into_id)
        if section.merged_into_id
        else None,
        rename=forms.get("rename")
        or RenameSectionForm(formdata=None, prefix="rename", data={"name": section.name}),
        move=forms.get("move")
        or MoveSectionForm(
            formdata=None,
            prefix="move",
            data={"bureau": section.bureau, "division": section.division},
        ),
        merge=merge,
        retire=forms.get("retire") or RetireSectionForm(formdata=None, prefix="retire"),
        audit=queries.subject_audit_rows("section", section.id),
        **_audit_helpers(),
    ), status


def _merge_choices(form: MergeSectionForm, section: Section) -> None:
    form.into.choices = options(
        [("", "（選択してください）")]
        + [(str(s.id), s.name) for s in queries.active_sections() if s.id != section.id]
    )


@bp.get("/sections/<int:section_id>")
def section(section_id: int):
    return _section_page(_load_section(section_id))


def _section_change(section_id: int, key: str, form, change: Callable[[Section], Any], done: str):
    """One of the section page's forms: validate, change, commit; the page again on an error."""
    section = _load_section(section_id)
    if key == "merge":
        _merge_choices(form, section)
    if not form.validate():
        return _section_page(section, 422, **{key: form})
    if error := _attempt(form, lambda: change(section)):
        return _section_page(_load_section(section_id), error.http_status, **{key: form})
    flash(done.format(section=section), "success")
    return redirect(url_for("admin.section", section_id=section_id))


@bp.post("/sections/<int:section_id>/rename")
def rename_section(section_id: int):
    form = RenameSectionForm(prefix="rename")
    return _section_change(
        section_id,
        "rename",
        form,
        lambda s: admin.rename_section(current_user, "web", s, form.name.data.strip()),
        "課の名前を「{section.name}」に変更しました。",
    )


@bp.post("/sections/<int:section_id>/move")
def move_section(section_id: int):
    form = MoveSectionForm(prefix="move")
    return _section_change(
        section_id,
        "move",
        form,
        lambda s: admin.move_section(
            current_user,
            "web",
            s,
            bureau=(form.bureau.data or "").strip(),
            division=(form.division.data or "").strip(),
        ),
        "課「{section.name}」の局・区と部を変更しました。",
    )


@bp.post("/sections/<int:section_id>/merge")
def merge_section(section_id: int):
    form = MergeSectionForm(prefix="merge")

    def merge(source: Section) -> None:
        into = db.session.get(Section, int(form.into.data))
        if into is None:
            raise ValidationFailed.field("into", "統合先の課を一覧から選んでください。")
        admin.merge_section(current_user, "web", source, into)

    return _section_change(section_id, "merge", form, merge, "課「{section.name}」を統合しました。")


@bp.post("/sections/<int:section_id>/retire")
def retire_section(section_id: int):
    form = RetireSectionForm(prefix="retire")
    return _section_change(
        section_id,
        "retire",
        form,
        lambda s: admin.retire_section(current_user, "web", s),
        "課「{section.name}」を廃止しました。",
    )


# -- meeting kinds -------------------------------------------------------------------------------


def _kind_values(form: MeetingKindForm) -> dict[str, Any]:
    return {
        "name": form.name.data.strip(),
        "level": form.level.data,
        "sort_order": form.sort_order.data,
        "review": bool(form.review.data),
        "deadline_days": form.deadline_days.data,
    }


@bp.route("/meeting-kinds", methods=["GET", "POST"])
def meeting_kinds():
    kinds = queries.meeting_kinds()
    if request.method == "GET":
        form = NewMeetingKindForm(
            formdata=None,
            data={
                "level": 1,
                "sort_order": max((k.sort_order for k in kinds), default=0) + 1,
                "deadline_days": 5,
            },
        )
        return render_template("admin/meeting_kinds.html", kinds=kinds, form=form)
    form = NewMeetingKindForm()
    if not form.validate():
        return render_template("admin/meeting_kinds.html", kinds=kinds, form=form), 422
    code = form.code.data.strip()
    error = _attempt(
        form,
        lambda: admin.create_meeting_kind(current_user, "web", code=code, **_kind_values(form)),
    )
    if error:
        kinds = queries.meeting_kinds()
        return render_template(
            "admin/meeting_kinds.html", kinds=kinds, form=form
        ), error.http_status
    flash(f"会議の種類「{form.name.data.strip()}」を追加しました。", "success")
    return redirect(url_for("admin.meeting_kinds"))


@bp.route("/meeting-kinds/<code>", methods=["GET", "POST"])
def meeting_kind(code: str):
    kind = db.get_or_404(MeetingKind, code)
    if request.method == "GET":
        form = MeetingKindForm(formdata=None, obj=kind)
        return render_template("admin/meeting_kind.html", kind=kind, form=form)
    form = MeetingKindForm()
    if not form.validate():
        return render_template("admin/meeting_kind.html", kind=kind, form=form), 422
    changed: list[bool] = []
    error = _attempt(
        form,
        lambda: changed.append(
            admin.update_meeting_kind(current_user, "web", kind, **_kind_values(form))
        ),
    )
    if error:
        kind = db.get_or_404(MeetingKind, code)
        return render_template("admin/meeting_kind.html", kind=kind, form=form), error.http_status
    flash("変更を保存しました。" if changed[0] else "変更はありませんでした。", "success")
    return redirect(url_for("admin.meeting_kinds"))


# -- 閉庁日 and a meeting's own 申込締切 (issue 19) ---------------------------------------------------


def _closed_days_page(form: ClosedDayForm, status: int = 200) -> tuple[str, int]:
    rows = deadlines.closed_day_rows()
    return render_template(
        "admin/closed_days.html", rows=rows, form=form, remove_form=ButtonForm()
    ), status


@bp.route("/closed-days", methods=["GET", "POST"])
def closed_days():
    if request.method == "GET":
        return _closed_days_page(ClosedDayForm(formdata=None))
    form = ClosedDayForm()
    if not form.validate():
        return _closed_days_page(form, 422)
    name = form.name.data.strip()
    error = _attempt(
        form, lambda: admin.add_closed_day(current_user, "web", day=form.parsed_day, name=name)
    )
    if error:
        return _closed_days_page(form, error.http_status)
    flash(f"{to_wareki(form.parsed_day)}を閉庁日「{name}」として登録しました。", "success")
    return redirect(url_for("admin.closed_days"))


@bp.post("/closed-days/<int:closed_day_id>/remove")
def remove_closed_day(closed_day_id: int) -> Response:
    row = db.get_or_404(ClosedDay, closed_day_id)
    shown = f"{to_wareki(row.day)}（{row.name}）"
    form = ButtonForm()
    if not form.validate():
        flash("画面の有効期限が切れました。もう一度操作してください。", "error")
    elif not _attempt(None, lambda: admin.remove_closed_day(current_user, "web", row)):
        flash(f"閉庁日 {shown} を削除しました。", "success")
    return redirect(url_for("admin.closed_days"))


def _deadline_page(meeting: Meeting, form: MeetingDeadlineForm, status: int = 200):
    return render_template(
        "admin/meeting_deadline.html",
        meeting=meeting,
        form=form,
        rule=deadlines.rule_deadline(meeting),
        deadline=deadlines.deadline_of(meeting),
    ), status


@bp.route("/meetings/<int:meeting_id>/deadline", methods=["GET", "POST"])
def meeting_deadline(meeting_id: int):
    meeting = db.get_or_404(Meeting, meeting_id)
    if request.method == "GET":
        override = meeting.deadline_override
        data = {"submission_deadline": override.isoformat() if override else ""}
        return _deadline_page(meeting, MeetingDeadlineForm(formdata=None, data=data))
    form = MeetingDeadlineForm()
    if not form.validate():
        return _deadline_page(meeting, form, 422)
    wanted = None if "reset" in request.form else form.parsed_deadline
    changed: list[bool] = []
    error = _attempt(
        form,
        lambda: changed.append(admin.set_meeting_deadline(current_user, "web", meeting, wanted)),
    )
    if error:
        meeting = db.get_or_404(Meeting, meeting_id)
        return _deadline_page(meeting, form, error.http_status)
    if not changed[0]:
        flash("変更はありませんでした。", "success")
    elif wanted is None:
        flash("申込締切を会議の種類の決まりに戻しました。", "success")
    else:
        flash(f"申込締切を{to_wareki(wanted)}にしました。", "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


# -- 管理操作の記録 ------------------------------------------------------------------------------


def _value_text(key: str, value: Any) -> str:
    """A value of ``before`` / ``after`` as the pages say it."""
    if value is None or value == "":
        return "（なし）"
    if isinstance(value, bool):
        if key == "active":
            return "有効" if value else "無効"
        return "はい" if value else "いいえ"
    if key == "role" and value in ROLE_LABELS:
        return ROLE_LABELS[value]
    if key in VALUE_LABELS:
        return VALUE_LABELS[key].get(value, str(value))
    if key in DAY_FIELDS and isinstance(value, str):
        try:
            return to_wareki(date.fromisoformat(value))
        except ValueError:
            return value
    if key.endswith("_at") and isinstance(value, str):
        try:
            return jst_minute(datetime.fromisoformat(value))
        except ValueError:
            return value
    if key in COUNT_UNITS and isinstance(value, int):
        return f"{value}{COUNT_UNITS[key]}"
    if isinstance(value, dict):  # a subject named by id and name
        return str(value.get("name") or value.get("id") or "")
    return str(value)


def changes(row) -> list[tuple[str, str, str]]:
    """(field, before, after) of an admin row, fields in the order the row names them."""
    params = row.params or {}
    before = params.get("before") or {}
    after = params.get("after") or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        (
            FIELD_LABELS.get(key, key),
            _value_text(key, before.get(key)) if key in before else "",
            _value_text(key, after.get(key)) if key in after else "",
        )
        for key in keys
    ]


def actor_text(row) -> str:
    """操作者: the admin, or 「コマンド（OSユーザー）」 for a change made on the CLI."""
    params = row.params or {}
    if params.get("via") == "cli":
        return f"コマンド（{params.get('os_user') or '不明'}）"
    if row.actor is not None:
        by_api = "・API" if params.get("via") == "api" else ""
        return f"{row.actor.display_name}（{row.actor.login}{by_api}）"
    return "（不明）"


def subject_text(row) -> str:
    subject = queries.subject_of(row)
    kind = SUBJECT_LABELS.get(subject.get("type", ""), "")
    name = subject.get("name") or subject.get("id") or ""
    return f"{kind}「{name}」" if kind and name else kind or str(name)


def event_label(event: str) -> str:
    return EVENT_LABELS.get(event, event.removeprefix("admin."))


def _audit_helpers() -> dict[str, Any]:
    """What templates/admin/_audit.html calls on each row."""
    return {
        "changes": changes,
        "actor_text": actor_text,
        "subject_text": subject_text,
        "event_label": event_label,
    }


@bp.get("/audit")
def audit() -> str:
    page = Page.requested()
    rows = list(db.session.scalars(page.cut(queries.audit_rows())))
    return render_template(
        "admin/audit.html",
        rows=rows[:PER_PAGE],
        **page.context(rows, lambda n: url_for("admin.audit", page=n)),
        **_audit_helpers(),
    )
