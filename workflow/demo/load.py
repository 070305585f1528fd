"""``flask demo load``: the real sample and a handful of items in the same spirit, in many states."""

from __future__ import annotations

import io
from datetime import date, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.files import check_upload
from workflow.models import Item, Section, User
from workflow.pdf.render import render_pdf
from workflow.services import attachments, items, meetings, public_comment
from workflow.services.transaction import unit_of_work
from workflow.states.states import Role

DEMO_PASSWORD = "chogi-demo-pass"  # noqa: S105  (demo data only; the README says so)

SECTIONS = (
    ("情報政策課", "企画財政局", "企画部"),
    ("企画政策課", "企画財政局", "企画部"),
    ("経営監理課", "企画財政局", "企画部"),
    ("財政課", "企画財政局", "財務部"),
    ("地域政策課", "市民局", "市民協働推進部"),
)

USERS = (
    ("dept", "情報政策課 担当", Role.DEPARTMENT, "情報政策課"),
    ("dept2", "地域政策課 担当", Role.DEPARTMENT, "地域政策課"),
    ("secretariat", "庁議事務局（経営監理課）", Role.SECRETARIAT, "経営監理課"),
    ("viewer", "職員（閲覧）", Role.VIEWER, None),
    ("admin", "システム管理者", Role.ADMIN, None),
)

DX_PLAN = {
    "title": "相模原市ＤＸ推進計画の策定について",
    "applied_on": "2021-10-01",
    "section": "情報政策課",
    "bureau": "企画財政局",
    "division": "企画部",
    "target_kind": "policy_coordination",
    "route": ["section_managers", "affairs_coordination", "policy_coordination"],
    "contact": "デジタル推進班",
    "extension": "2145",
    "in_implementation_plan": True,
    "summary": "国の「自治体ＤＸ推進計画」を踏まえ、行政手続のオンライン化、情報システムの標準化・"
    "共通化等を計画的に進めるため、「相模原市ＤＸ推進計画」を策定するもの。",
    "discussion_points": ["計画の基本方針と重点取組について", "推進体制について"],
    "history": [
        {"when": "R3.4.20", "meeting": "ＤＸ推進本部会議", "content": "計画策定の進め方について"}
    ],
    "public_comment": {"planned": True, "period_text": "令和3年12月～令和4年1月"},
    "press_release": "materials",
    "council_report": {"channel": "committee", "timing": "令和３年１２月"},
    "coordination": [
        {"department": "企画政策課", "content": "総合計画との整合", "status": "done"},
        {"department": "財政課", "content": "事業費の見込み", "status": "in_progress"},
    ],
    "details": [
        {"heading": "事案の概要", "body": "○目的\n行政サービスの利便性向上と業務の効率化を図る。"},
        {
            "heading": "事業スケジュール",
            "body": "令和３年１２月 パブリックコメント\n令和４年３月 策定",
        },
        {"heading": "市民等への周知、合意形成", "body": "パブリックコメントを実施する。"},
        {"heading": "事業経費・財源", "body": "各事業の予算要求による。"},
        {
            "heading": "財源確保の考え方",
            "body": "国庫補助金（デジタル基盤改革支援補助金）を活用する。",
        },
        {"heading": "事業実施の効果", "body": "手続のオンライン化率の向上。"},
    ],
}

TOTAL_STRATEGY = {
    "title": "第２期相模原市まち・ひと・しごと創生総合戦略の策定について",
    "applied_on": "2019-10-25",
    "section": "地域政策課",
    "bureau": "市民局",
    "division": "市民協働推進部",
    "target_kind": "policy_coordination",
    "route": ["section_managers", "policy_coordination"],
    "summary": "人口減少と地域経済縮小の克服に向け、第２期の総合戦略を策定するもの。",
    "discussion_points": ["基本目標と重要業績評価指標（ＫＰＩ）について"],
    "public_comment": {"planned": True, "period_text": "令和2年1月～2月"},
    "council_report": {"channel": "all_members", "timing": "令和２年１月"},
    "details": [
        {
            "heading": "事案の概要",
            "body": "ア 基本目標\nイ 具体的な施策\n（ア）しごとづくり\n（イ）ひとの流れ",
        }
    ],
}

OTHERS = (
    {
        "title": "相模原市公共施設マネジメント推進プランの改定について",
        "section": "企画政策課",
        "bureau": "企画財政局",
        "division": "企画部",
        "route": ["section_managers", "policy_coordination"],
        "summary": "公共施設の長寿命化と再編の方針を改定するもの。",
        "discussion_points": ["施設再編の優先順位について"],
    },
    {
        "title": "（仮称）相模原市行政手続オンライン化条例の制定について",
        "applied_on": "2020-10-05",
        "target_kind": "policy_decision",
        "route": ["section_managers", "policy_coordination", "policy_decision"],
        "section": "情報政策課",
        "bureau": "企画財政局",
        "division": "企画部",
        "summary": "行政手続のオンライン化の基本事項を定める条例を制定するもの。",
        "discussion_points": ["条例で定める対象手続の範囲について"],
        "ordinance": {"kind": "ordinance", "change": "enact", "council_submission": "令和３年３月"},
    },
    {
        "title": "地域活動団体への補助制度の見直しについて",
        "applied_on": "2020-10-12",
        "target_kind": "policy_coordination",
        "route": ["section_managers", "policy_coordination"],
        "section": "地域政策課",
        "bureau": "市民局",
        "division": "市民協働推進部",
        "summary": "補助金の交付基準を見直すもの。",
        "discussion_points": ["交付基準の見直しの方向性について"],
    },
)


def _people() -> dict[str, User]:
    for name, bureau, division in SECTIONS:
        db.session.add(Section(name=name, bureau=bureau, division=division))
    db.session.flush()
    people = {}
    for login, display, role, section in USERS:
        user = User(
            login=login,
            display_name=display,
            role=role,
            section=db.session.scalar(select(Section).where(Section.name == section))
            if section
            else None,
        )
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        people[login] = user
    db.session.flush()
    return people


# The demo's 資料: a few short pages each, rendered as PDFs at load (they need no worker).
STRATEGY_DRAFT = [
    (
        "策定の趣旨",
        "人口減少と地域経済の縮小に歯止めをかけ、将来にわたって活力ある地域社会を維持する。",
    ),
    ("基本目標", "しごとをつくり、ひとの流れをつくり、結婚・出産・子育ての希望をかなえる。"),
]
STRATEGY_KPI = [
    ("重要業績評価指標", "転入超過数、創業支援件数、合計特殊出生率。国の指標との整合を図る。"),
]
DX_DRAFT = [
    (
        "計画の位置付け",
        "第２次ＩＣＴ総合戦略の下で、行政手続のオンライン化と庁内業務の見直しを進める。",
    ),
    ("推進体制", "ＣＩＯを長とし、情報政策課が各局・区と連携して取り組む。"),
]


def _attach(actor: User, item: Item, title: str, sections: list[tuple[str, str]]) -> None:
    """Attach a 資料 of *sections* to *item*, as its department would upload it."""
    pdf = render_pdf(
        "demo_document.html",
        {
            "doc_title": title,
            "title": title,
            "sections": sections,
            "draft": False,
            "form_label": "",
        },
        created=date(2019, 11, 1),
    )
    upload = check_upload(FileStorage(io.BytesIO(pdf), filename=f"{title}.pdf"))
    attachments.add(actor, item, upload, title=title)


def load_demo(today: date) -> None:
    """Load the demo data into an empty database, in one transaction."""
    people = _people()
    dept, dept2, sec = people["dept"], people["dept2"], people["secretariat"]
    play_sample(dept, sec)

    # まち・ひと・しごと: through 関係課長会議 and 政策調整会議, now in public comment.
    strategy = items.file_item(dept2, TOTAL_STRATEGY)
    items.submit(dept2, strategy)
    items.accept(sec, strategy)
    sm = meetings.create_meeting(sec, kind="section_managers", date_=date(2019, 11, 12))
    _attach(dept2, strategy, "総合戦略（案）", STRATEGY_DRAFT)
    _attach(dept2, strategy, "ＫＰＩ一覧", STRATEGY_KPI)
    meetings.schedule(sec, sm, strategy, "地域政策課長")
    meetings.record_deliberation(
        sec,
        sm,
        strategy,
        {
            "attendance": [
                {"section": "企画政策課", "deputy": False},
                {"section": "財政課", "deputy": True},
                {"section": "地域政策課", "deputy": False},
            ],
            "opinions": [
                {
                    "opinion": "ＫＰＩの設定根拠を明確にすべきではないか。",
                    "response": "国の指標との整合を図り、根拠を資料に追記する。",
                    "follow_up": "資料２に追記済み。",
                }
            ],
            "special_notes": "なし",
        },
    )
    meetings.record_outcome(sec, sm, strategy, "forwarded", "policy_coordination")
    for step in (meetings.hold, meetings.confirm, meetings.publish):
        step(sec, sm)
    pc = meetings.create_meeting(sec, kind="policy_coordination", date_=date(2019, 12, 6))
    meetings.schedule(sec, pc, strategy, "市民局長")
    meetings.record_deliberation(
        sec,
        pc,
        strategy,
        {"opinions": [{"opinion": "若年層の転出対策を強化すべき。", "response": None}]},
    )
    meetings.record_outcome(sec, pc, strategy, "approved")
    for step in (meetings.hold, meetings.confirm):
        step(sec, pc)
    public_comment.open_public_comment(
        sec,
        strategy,
        published_on=today - timedelta(days=10),
        closes_on=today + timedelta(days=25),
        how_to_submit="地域政策課へ持参、郵送、ファクス又は電子メール",
    )
    public_comment.add_opinion(
        sec, strategy, summary="子育て世代の移住支援を拡充してほしい。", submitter_kind="個人"
    )

    # ＤＸ推進計画: accepted and on the agenda of an upcoming joint sitting,
    # 関係課長会議兼事務事業調整会議 (DOMAIN §8), which passes both kinds of its route at once.
    dx = items.file_item(dept, DX_PLAN)
    items.submit(dept, dx)
    items.accept(sec, dx)
    upcoming = meetings.create_meeting(
        sec,
        kind="section_managers",
        second_kind="affairs_coordination",
        date_=today + timedelta(days=14),
        venue="本庁舎 第２特別会議室",
        chair="企画部長",
    )
    _attach(dept, dx, "ＤＸ推進計画（案）", DX_DRAFT)
    meetings.schedule(sec, upcoming, dx, "情報政策課長")
    meetings.create_meeting(
        sec, kind="policy_coordination", date_=today + timedelta(days=28), venue="市長応接室"
    )

    # The rest: a draft the secretariat started, one returned, one waiting in the intake queue.
    draft_data, returned_data, submitted_data = OTHERS
    items.file_item(sec, draft_data)
    returned = items.file_item(dept, returned_data)
    items.submit(dept, returned)
    items.return_item(sec, returned, "条例案の骨子と関係部局との調整状況を追記してください。")
    items.submit(dept2, items.file_item(dept2, submitted_data))


demo_cli = AppGroup("demo", help="デモデータ")


@demo_cli.command("load")
def load_command() -> None:
    """Load the demo data (only into a database without users)."""
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("デモデータは読み込み済みです（利用者が登録されているため、何もしません）。")
        return
    with unit_of_work():
        load_demo(date.today())
    click.echo(f"デモデータを読み込みました。利用者: {', '.join(u[0] for u in USERS)}")


@demo_cli.command("generate")
@click.option("--items", "n", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
def generate_command(n: int, seed: int) -> None:
    """Generate ten years of meetings and N items in bulk (benchmarks; an item-less database)."""
    from workflow.demo.generate import NotEmpty, run

    try:
        run(n, seed, click.echo)
    except NotEmpty:
        raise click.ClickException(
            "案件または会議がすでに登録されています。空のデータベースで実行してください。"
        ) from None
