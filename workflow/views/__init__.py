"""Blueprints of the HTML pages, and the Japanese 403/404 pages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from workflow.files import is_upload_request, too_large_message
from workflow.states.states import because
from workflow.wareki import to_wareki_short


def init_app(app: Flask) -> None:
    from workflow.forms.error_summary import error_links
    from workflow.views.account import bp as account_bp
    from workflow.views.admin import bp as admin_bp
    from workflow.views.admin_imports import bp as admin_imports_bp
    from workflow.views.attachments import bp as attachments_bp
    from workflow.views.comments import bp as comments_bp
    from workflow.views.items import bp as items_bp
    from workflow.views.items import item_list_url
    from workflow.views.main import bp as main_bp
    from workflow.views.meetings import bp as meetings_bp
    from workflow.views.notices import bp as notices_bp
    from workflow.views.public import bp as public_bp
    from workflow.views.search import bp as search_bp
    from workflow.views.versions import bp as versions_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(items_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(comments_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(versions_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(admin_imports_bp)
    for code in (400, 403, 404, 405, 409, 413):
        app.register_error_handler(code, _error_page)
    app.add_template_filter(jst_short)
    app.add_template_filter(jst_minute)
    app.add_template_global(item_list_url)
    app.add_template_global(user_caption)
    app.add_template_global(because)
    app.add_template_global(error_links)


JST = ZoneInfo("Asia/Tokyo")


def user_caption(user) -> str:
    """Who is signed in, each name once: 「山田 太郎（所管課職員・企画課）」, but a display name
    that already says its role and section (「庁議事務局（経営監理課）」) stands alone."""
    name = user.display_name or user.login
    section = user.section.name if user.section is not None else ""
    extra = [part for part in (user.role.label, section) if part and part not in name]
    return f"{name}（{'・'.join(extra)}）" if extra else name


def jst_short(value: datetime | None) -> str:
    """A stored UTC time as the city's calendar day, 「R1.10.11」."""
    if value is None:
        return ""
    day = value.astimezone(JST).date()
    return to_wareki_short(day)


def jst_minute(value: datetime | None) -> str:
    """A stored UTC time as the city's clock, 「R1.10.11 14:05」 (versions saved on one day)."""
    if value is None:
        return ""
    moment = value.astimezone(JST)
    return f"{to_wareki_short(moment.date())} {moment:%H:%M}"


_MESSAGES = {
    400: ("リクエストが正しくありません", "画面を読み込み直してから、もう一度操作してください。"),
    403: ("この画面を表示する権限がありません", "必要な場合は庁議事務局にお問い合わせください。"),
    404: ("ページが見つかりません", "アドレスが正しいか確認してください。"),
    405: ("この操作はできません", "画面のボタンから操作してください。"),
    409: ("ほかの操作と重なりました", "画面を読み込み直してから、もう一度操作してください。"),
    413: ("送信された内容が大きすぎます", "内容を減らしてから、もう一度送信してください。"),
}


def _error_page(error: HTTPException):
    """Japanese error pages; the JSON API keeps its own error bodies."""
    if request.path.startswith("/api/"):
        return error
    title, hint = _MESSAGES.get(error.code, ("エラーが発生しました", ""))
    if error.code == 413 and is_upload_request(request):
        title, hint = "ファイルが大きすぎます", too_large_message()  # ATTACHMENT_MAX_MB
    return render_template("errors/error.html", code=error.code, title=title, hint=hint), error.code
