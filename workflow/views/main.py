"""The home page: what waits for the reader (「対応が必要なもの」) first, then what each role needs, and the overview (counts, longest waits, next meetings)."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user, login_required

from workflow.queries.home import home
from workflow.queries.items import ItemFilter
from workflow.queries.tasks import tasks_for
from workflow.states.states import ItemStatus, Role
from workflow.views.items import next_step

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index() -> str:
    view = home(current_user)

    def list_url(status: ItemStatus | str, kind: str | None = None) -> str:
        """The item list behind a count: the same filter the count was made with."""
        return url_for("items.index", **ItemFilter(status=ItemStatus(status), kind=kind).args())

    return render_template(
        "index.html",
        tasks=tasks_for(current_user),
        statuses=list(ItemStatus),
        home=view,
        list_url=list_url,
        intake=view.by_status[ItemStatus.SUBMITTED] if current_user.role == Role.SECRETARIAT else 0,
        next_step=next_step,
    )
