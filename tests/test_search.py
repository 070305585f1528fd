"""Search: every indexed field, Japanese queries of any length, permissions, folding, pages and API.

The same queries and the same expected hits run on whichever engine the suite runs on (SQLite's
FTS5 trigram table, PostgreSQL's pg_trgm index, and each engine's short-word index for one or two
characters): the answers must not depend on the engine.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.factories import item_meeting_id, make_item, make_meeting, make_section, make_user
from tests.support import (
    API,
    auth,
    counting,
    create_pg_database,
    drop_pg_database,
    login,
    make_app,
    search_rows,
)
from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.models import Item, Meeting, SearchDocument, User
from workflow.permissions import can_read_minutes, readable_minutes
from workflow.queries.search import (
    SEARCH_FIELDS,
    SEARCH_WINDOW,
    _first_window,
    _newest_matches,
    _short_word_share,
    check_query,
    search,
    search_items,
)
from workflow.search_index import (
    GRAMS_FUNCTION,
    GRAMS_TABLE,
    PG_GRAMS_INDEX,
    PG_TRGM_INDEX,
    fold,
    fold_with_offsets,
    rebuild,
    short_grams,
    short_token,
)
from workflow.services import items, meetings
from workflow.states.states import ItemStatus, MeetingStatus, Role


@pytest.fixture
def people(app: Flask) -> dict:
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    people = {
        "department": make_user(Role.DEPARTMENT, section=section, login="dept"),
        "other_department": make_user(Role.DEPARTMENT, login="other"),
        "secretariat": make_user(Role.SECRETARIAT, login="sec"),
        "viewer": make_user(Role.VIEWER, login="viewer"),
        "admin": make_user(Role.ADMIN, login="admin"),
    }
    db.session.commit()
    return people


def _item(people: dict, status: ItemStatus = ItemStatus.SUBMITTED, **fields) -> Item:
    return make_item(
        status, department=people["department"], secretariat=people["secretariat"], **fields
    )


def _meeting(item: Item) -> Meeting:
    return db.session.get(Meeting, item_meeting_id(item))


def titles(user, q: str) -> list[str]:
    return [hit.item.title for hit in search_items(user, q)]


# -- every field -------------------------------------------------------------------------------

EVERYTHING = {
    "title": "地域公共交通網形成計画の策定",
    "summary": "路線バスの再編とデマンド交通の導入を図る。",
    "policy_ref": "施策番号３－２－１ 公共交通ネットワーク整備事業",
    "discussion_points": ["乗合タクシーの運賃設定について", "交通事業者との役割分担"],
    "details": [
        {"heading": "（１）事案の概要", "body": "ア 循環バスの廃止\nイ 停留所の統合"},
        {"heading": "（２）事業スケジュール", "body": "令和２年度 実証運行"},
    ],
    "history": [{"when": "R1.7.5", "meeting": "交通政策検討会", "content": "利用実態調査を報告"}],
    "coordination": [{"department": "都市整備局", "content": "道路占用の協議", "status": "done"}],
    "schedule_notes": "議会全員協議会で報告予定",
    "remarks": "国庫補助金の申請を予定",
}
# (query, the field where the first hit is, the hit as written)
FIELD_QUERIES = [
    ("網形成", "title", "網形成"),
    ("デマンド交通", "summary", "デマンド交通"),
    ("ネットワーク整備", "policy_ref", "ネットワーク整備"),
    ("乗合タクシー", "discussion_points", "乗合タクシー"),
    ("役割分担", "discussion_points", "役割分担"),
    ("循環バス", "details", "循環バス"),
    ("事業スケジュール", "details", "事業スケジュール"),
    ("交通政策検討会", "history", "交通政策検討会"),
    ("利用実態調査", "history", "利用実態調査"),
    ("都市整備局", "coordination", "都市整備局"),
    ("道路占用", "coordination", "道路占用"),
    ("全員協議会", "schedule_notes", "全員協議会"),
    ("国庫補助金", "remarks", "国庫補助金"),
    ("高齢者の移動", "opinions", "高齢者の移動"),
    ("利用者アンケート", "opinions", "利用者アンケート"),
    ("運行事業者と合意", "opinions", "運行事業者と合意"),
    ("継続審議", "special_notes", "継続審議"),
]


@pytest.fixture
def transit(people) -> Item:
    """An item with every searchable text filled, deliberated at a meeting (minutes unconfirmed)."""
    item = _item(people, ItemStatus.SCHEDULED, **EVERYTHING)
    meetings.record_deliberation(
        people["secretariat"],
        _meeting(item),
        item,
        {
            "opinions": [
                {
                    "opinion": "高齢者の移動手段をどう確保するのか。",
                    "response": "利用者アンケートの結果を踏まえて検討する。",
                    "follow_up": "運行事業者と合意済み。",
                }
            ],
            "special_notes": "次回に継続審議とする。",
        },
    )
    db.session.commit()
    return item


@pytest.mark.parametrize(("q", "field", "as_written"), FIELD_QUERIES)
def test_every_indexed_field_is_found(people, transit, q, field, as_written):
    (hit,) = search_items(people["secretariat"], q)
    assert hit.item.id == transit.id
    assert hit.field == field
    assert hit.match == as_written
    assert as_written in hit.snippet


def test_every_field_has_a_japanese_label():
    assert {f for _, f, _ in FIELD_QUERIES} == set(SEARCH_FIELDS)
    assert all(re.search(r"[\u3040-\u9fff]", label) for label in SEARCH_FIELDS.values())


# -- Japanese queries of one, two, three and more characters -----------------------------------


@pytest.fixture
def water(people) -> dict[str, Item]:
    made = {}
    for key, title, summary in [
        ("sewer", "下水道事業の経営戦略", "使用料の見直し"),
        ("supply", "水の安定供給に関する計画", "浄水場の更新"),
        ("road", "道路の維持管理", "橋りょうの長寿命化と下水の接続"),
        ("park", "公園の再整備", "遊具の更新"),
    ]:
        made[key] = _item(people, title=title, summary=summary)
    db.session.commit()
    return made


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("水", ["supply", "sewer", "road"]),  # one character: the short-word index
        ("道", ["road", "sewer"]),
        ("下水", ["sewer", "road"]),  # two characters: the short-word index
        ("更新", ["park", "supply"]),
        ("下水道", ["sewer"]),  # three and more: the trigram index
        ("浄水場の更新", ["supply"]),
        ("長寿命化と下水", ["road"]),
        ("上水道", []),
        ("公", ["park"]),
    ],
)
def test_japanese_queries_of_every_length_find_exactly(people, water, q, expected):
    """Title hits first, then newest first (the items were filed in the fixture's order)."""
    assert titles(people["secretariat"], q) == [water[k].title for k in expected]


def test_title_hits_come_before_newer_hits_elsewhere(people):
    old = _item(people, title="ごみ収集の効率化")
    db.session.commit()
    newer = _item(people, title="清掃工場の更新", summary="ごみ収集車の更新も含む")
    db.session.commit()
    assert newer.updated_at >= old.updated_at
    assert titles(people["secretariat"], "ごみ収集") == [old.title, newer.title]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("100%", ["手数料を100%引き上げる"]),
        ("%", ["手数料を100%引き上げる"]),
        ("a_b", ["手数料を100%引き上げる"]),
        ("_", ["手数料を100%引き上げる"]),
        ('"引き上げ"', ["手数料を100%引き上げる"]),
        ('"', ["手数料を100%引き上げる"]),
        ("\\", ["手数料を100%引き上げる"]),
        ("OR -*", ["手数料を100%引き上げる"]),
        ("*", ["手数料を100%引き上げる"]),
        ("axb", ["手数料を100円に"]),
        ("100", ["手数料を100円に", "手数料を100%引き上げる"]),
    ],
)
def test_query_syntax_is_only_text(people, q, expected):
    """No LIKE wildcard or FTS5 operator in a query means anything but itself."""
    _item(people, title="手数料を100%引き上げる", summary='税率の"引き上げ"と a_b の案 OR -* \\')
    _item(people, title="手数料を100円に", summary="ab とも axb とも言う")
    db.session.commit()
    assert titles(people["secretariat"], q) == expected


def test_the_index_and_a_plain_scan_agree(people, transit, water):
    """Whatever path a query takes (trigram index or LIKE scan), it finds what `in` finds."""
    docs = db.session.execute(sa.select(SearchDocument.item_id, SearchDocument.folded)).all()
    queries = [
        "水",
        "の",
        "下水",
        "交通",
        "デマンド交通の導入",
        "ｄｅｍａｎｄ",
        "バス",
        "r1.7",
        "xyz",
    ]
    for q in queries:
        expected = {item_id for item_id, folded in docs if fold(q) in folded}
        found = {hit.item.id for hit in search_items(people["secretariat"], q, limit=200)}
        assert found == expected, q


# -- folding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "query"),
    [
        ("ＩＣＴ戦略", "ICT"),
        ("ICT戦略", "ＩＣＴ"),
        ("ICT戦略", "ict"),
        ("ｉｃｔ戦略", "Ｉｃｔ"),
        ("ｼｽﾃﾑ改修", "システム"),
        ("システム改修", "ｼｽﾃﾑ"),
        ("ﾃﾞｰﾀ連携", "データ"),
        ("第１２回", "12回"),
    ],
)
def test_full_and_half_width_and_case_are_one(people, written, query):
    item = _item(people, title=f"{written}の推進")
    db.session.commit()
    (hit,) = search_items(people["secretariat"], query)
    assert hit.item.id == item.id
    assert fold(hit.match) == fold(query)
    assert hit.match in f"{written}の推進"  # the snippet shows the text as written


def test_fold_keeps_a_map_back_to_the_text():
    text = "ｶﾞｽ料金とＩＣＴ"
    folded, origin = fold_with_offsets(text)
    assert folded == "ガス料金とict" == fold(text)
    at = folded.index("ict")
    assert text[origin[at] : origin[at + 3]] == "ＩＣＴ"
    assert text[origin[0] : origin[1]] == "ｶﾞ"


def test_snippet_is_about_forty_characters_either_side(people):
    body = "あ" * 100 + "目的外利用" + "い" * 100
    _item(people, title="個人情報の取扱い", summary=body)
    db.session.commit()
    (hit,) = search_items(people["secretariat"], "目的外利用")
    assert hit.before == "…" + "あ" * 40
    assert hit.match == "目的外利用"
    assert hit.after == "い" * 40 + "…"
    assert hit.snippet == hit.before + hit.match + hit.after


# -- the index follows every change ------------------------------------------------------------


def test_an_edited_item_is_found_by_its_new_text_only(people):
    dep = people["department"]
    item = make_item(
        department=dep, title="旧庁舎の解体", details=[{"heading": "経緯", "body": "耐震性不足"}]
    )
    db.session.commit()
    items.update_item(
        dep,
        item,
        {"title": "新庁舎の建設", "details": [{"heading": "経緯", "body": "老朽化への対応"}]},
    )
    db.session.commit()
    sec = people["secretariat"]
    assert titles(sec, "旧庁舎") == []
    assert titles(sec, "耐震性不足") == []
    assert titles(sec, "新庁舎") == ["新庁舎の建設"]
    assert [h.field for h in search_items(sec, "老朽化")] == ["details"]


def test_replaced_opinions_and_a_rolled_back_edit_leave_no_trace(people, transit):
    sec = people["secretariat"]
    meetings.record_deliberation(
        sec, _meeting(transit), transit, {"opinions": [{"opinion": "通学利用にも配慮を。"}]}
    )
    db.session.commit()
    assert titles(sec, "高齢者の移動") == []
    assert titles(sec, "通学利用") == [transit.title]

    items.update_item(
        people["secretariat"], make_item(department=people["department"]), {"title": "幻の案件"}
    )
    db.session.rollback()
    assert titles(sec, "幻の案件") == []


def test_rebuild_writes_the_same_rows(people, transit, water):
    rows = search_rows

    before = rows()
    assert rebuild(db.session.connection()) == 5
    assert rows() == before
    assert titles(people["secretariat"], "下水道") == [water["sewer"].title]


# -- the short-word index ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "grams"),
    [
        ("道路の整備", {"道", "路", "の", "整", "備", "道路", "路の", "の整", "整備"}),
        ("𠮷野家", {"𠮷", "野", "家", "𠮷野", "野家"}),  # beyond the BMP: one character
        ("a、b", {"a", "、", "b", "a、", "、b"}),  # punctuation is a character like any other
        ("川", {"川"}),
        ("", set()),
    ],
)
def test_both_engines_index_each_character_and_each_pair(app, text, grams):
    """SQLite's tokens (hex code points) and PostgreSQL's chogi_grams() name the same grams."""
    in_sql = db.session.execute(sa.text("SELECT chogi_grams(:text)"), {"text": text}).scalar()
    if db.engine.dialect.name == "sqlite":
        assert in_sql == short_grams(text)
        in_sql = [bytes.fromhex(token).decode("utf-32-be") for token in in_sql.split()]
    assert set(in_sql) == grams


def _index_answers(word: str) -> set[int]:
    """The texts the short-word index itself lists for *word*, read from the index alone."""
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(
            sa.text("SELECT rowid FROM search_grams WHERE search_grams MATCH :token"),
            {"token": f'"{short_token(word)}"'},
        )
        return set(rows.scalars())
    # Only a bitmap scan is left to the planner, and only the GIN index can feed it.
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    db.session.execute(sa.text("SET LOCAL enable_indexscan = off"))
    query = "SELECT id FROM search_documents WHERE chogi_grams(folded) @> ARRAY[:word]"
    plan = db.session.execute(sa.text("EXPLAIN " + query), {"word": word}).scalars().all()
    assert any(PG_GRAMS_INDEX in line for line in plan), plan
    found = set(db.session.execute(sa.text(query), {"word": word}).scalars())
    db.session.rollback()
    return found


def test_the_short_word_index_follows_every_write(people, transit, water):
    """After inserts, edits, replaced opinions and a moved meeting, the index lists exactly the
    texts that hold each word (SQLite's contentless table is kept by triggers alone)."""
    dep, sec = people["department"], people["secretariat"]
    old = make_item(department=dep, title="旧庁舎の解体", summary="耐震性不足")
    db.session.commit()
    items.update_item(dep, old, {"title": "新庁舎の建設", "summary": "老朽化への対応"})
    meetings.record_deliberation(
        sec, _meeting(transit), transit, {"opinions": [{"opinion": "通学利用にも配慮を。"}]}
    )
    _meeting(transit).date = _meeting(transit).date.replace(day=1)  # re-indexes what was said
    db.session.commit()

    words = ["旧庁", "耐震", "新庁", "老朽", "高齢", "通学", "道路", "下水", "水", "の", "。", "z"]
    texts = db.session.execute(sa.select(SearchDocument.id, SearchDocument.folded)).all()
    assert any("通学" in folded for _id, folded in texts)
    for word in words:
        assert _index_answers(word) == {i for i, folded in texts if word in folded}, word
    assert _index_answers("旧庁") == _index_answers("高齢") == set()


def test_short_words_are_looked_up_in_the_index(app):
    """The query as search() builds it is one the engine's short-word index can answer."""
    sql = str(_newest_matches("道路").compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        plan = db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)).all()
        assert any("VIRTUAL TABLE INDEX" in row[-1] and GRAMS_TABLE in row[-1] for row in plan)
        return
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    db.session.execute(sa.text("SET LOCAL enable_indexscan = off"))
    plan = db.session.execute(sa.text("EXPLAIN " + sql)).scalars().all()
    assert any(PG_GRAMS_INDEX in line for line in plan), plan


def test_on_postgresql_a_common_short_word_reads_the_texts_newest_first(people, engine_name):
    """Words in 1 % of the texts or more are not offered the short-word index (by pg_stats)."""
    if engine_name != "postgresql":
        pytest.skip("PostgreSQL's statistics; FTS5 reads any word's texts newest first")
    for n in range(150):
        _item(people, title=f"市民の声 その{n}", summary="窓口の受付")
    _item(people, title="橋りょうの点検")
    db.session.commit()
    db.session.execute(sa.text("ANALYZE search_documents"))

    def offered_the_index(word: str) -> bool:
        sql = _newest_matches(word, _short_word_share(word)).compile(db.engine)
        return GRAMS_FUNCTION in str(sql)

    assert _short_word_share("市民") > 0.3  # in a third of the texts (title, summary, 論点)
    assert _short_word_share("鬱") == 0.0  # in none: not among the index's common elements
    assert not offered_the_index("の")  # in every text
    assert not offered_the_index("市民")
    assert offered_the_index("橋")  # in one item of 151
    assert offered_the_index("鬱")
    assert titles(people["secretariat"], "市民")[:2] == ["市民の声 その149", "市民の声 その148"]
    assert titles(people["secretariat"], "橋") == ["橋りょうの点検"]


def test_the_first_window_follows_the_statistics():
    """PostgreSQL searches first as many of the newest texts as should hold the limit."""
    assert _first_window(None) == SEARCH_WINDOW  # no statistics, or not a short word
    assert _first_window(0.5) == SEARCH_WINDOW  # common: read newest first anyway
    assert _first_window(0.005) == 300_000  # 1 500 of the texts said with it, expected
    assert _first_window(0.0) == sys.maxsize  # rarer than every common one: every text


def test_on_postgresql_a_rare_short_word_searches_every_text_at_once(
    people, monkeypatch, engine_name
):
    """A word the statistics know as rare: no window first, and the same answer."""
    if engine_name != "postgresql":
        pytest.skip("PostgreSQL's windows; FTS5 reads any word's texts newest first")
    for n in range(40):
        _item(people, title=f"公園の再整備 その{n}", summary="遊具の更新")
    db.session.commit()
    db.session.execute(sa.text("ANALYZE search_documents"))
    # Said since the statistics were taken (in a small table every word is a common one).
    _item(people, title="鬱蒼とした緑地の保全")
    db.session.commit()
    monkeypatch.setattr("workflow.queries.search.SEARCH_WINDOW", 2)  # a window: few texts
    sec = people["secretariat"]

    def searched() -> tuple[list[str], list[str]]:
        with counting() as statements:
            found = [hit.item.title for hit in search(sec, "鬱").hits]
        return found, [s for s in statements if "search_documents.id >=" in s]

    assert _short_word_share("鬱") == 0.0
    assert searched() == (["鬱蒼とした緑地の保全"], [])
    # Without statistics to go by, windows first (too few texts in them), then every text.
    monkeypatch.setattr("workflow.queries.search._short_word_share", lambda word: None)
    found, windows = searched()
    assert found == ["鬱蒼とした緑地の保全"]
    assert windows


# -- permissions -------------------------------------------------------------------------------


def test_drafts_only_for_their_own_section_and_the_secretariat(people):
    _item(people, ItemStatus.DRAFT, title="下書きの観光振興策")
    _item(people, ItemStatus.SUBMITTED, title="申込済みの観光振興策")
    db.session.commit()
    expected = {
        "secretariat": ["申込済みの観光振興策", "下書きの観光振興策"],
        "admin": ["申込済みの観光振興策", "下書きの観光振興策"],
        "department": ["申込済みの観光振興策", "下書きの観光振興策"],
        "other_department": ["申込済みの観光振興策"],
        "viewer": ["申込済みの観光振興策"],
    }
    for who, found in expected.items():
        assert titles(people[who], "観光振興") == found, who
    assert titles(None, "観光振興") == []  # nothing is published


def test_what_was_said_is_found_only_where_its_minutes_may_be_read(people, transit):
    sec, viewer, dep = people["secretariat"], people["viewer"], people["department"]
    meeting = _meeting(transit)

    def found(user) -> dict[str, list[str]]:
        return {q: titles(user, q) for q in ("高齢者の移動", "継続審議", "デマンド交通")}

    mine = [transit.title]
    assert found(sec) == {"高齢者の移動": mine, "継続審議": mine, "デマンド交通": mine}
    # The minutes are a draft: staff other than the secretariat see the item but not what was said.
    for user in (viewer, dep):
        assert found(user) == {"高齢者の移動": [], "継続審議": [], "デマンド交通": mine}
    assert found(None) == {"高齢者の移動": [], "継続審議": [], "デマンド交通": []}

    meetings.record_outcome(sec, meeting, transit, "approved")
    meetings.hold(sec, meeting)
    meetings.confirm(sec, meeting)
    db.session.commit()
    assert found(viewer) == {"高齢者の移動": mine, "継続審議": mine, "デマンド交通": mine}
    assert found(None) == {"高齢者の移動": [], "継続審議": [], "デマンド交通": []}

    meetings.publish(sec, meeting)
    db.session.commit()
    assert meeting.status == MeetingStatus.PUBLISHED
    assert found(None) == {"高齢者の移動": mine, "継続審議": mine, "デマンド交通": mine}


# -- the API -----------------------------------------------------------------------------------


def test_api_search_shape(client, people, transit):
    r = client.get(
        f"{API}/search", query_string={"q": "ﾃﾞﾏﾝﾄﾞ交通"}, headers=auth(people["secretariat"])
    )
    assert r.status_code == 200
    (hit,) = r.get_json()["results"]
    assert hit == {
        "item_id": transit.id,
        "title": EVERYTHING["title"],
        "status": "scheduled",
        "status_label": ItemStatus.SCHEDULED.label,
        "field": "summary",
        "snippet": "路線バスの再編とデマンド交通の導入を図る。",
    }


@pytest.mark.parametrize("q", ["", "   ", "　"])
def test_api_empty_query_finds_nothing(client, people, transit, q):
    r = client.get(f"{API}/search", query_string={"q": q})
    assert r.status_code == 200
    assert r.get_json() == {"results": []}


def test_api_overlong_query_is_a_japanese_422(client, people):
    r = client.get(f"{API}/search", query_string={"q": "水" * 201})
    assert r.status_code == 422
    body = r.get_json()
    assert "200文字以内" in body["error"]["message"] or "200文字以内" in str(body)


# -- the pages ---------------------------------------------------------------------------------


SEARCH_BOX = re.compile(
    r'<form class="site-search" role="search" aria-label="[^"]+" method="get" action="/search">'
    r'\s*<label for="site-search-q"[^>]*>[^<]+</label>\s*<input type="search" id="site-search-q" name="q"'
)


@pytest.mark.parametrize(
    ("user", "url"),
    [
        (None, "/login"),
        (None, "/public/"),
        (None, "/search"),
        ("viewer", "/"),
        ("viewer", "/items/"),
        ("viewer", "/meetings/"),
        ("secretariat", "/items/intake"),
        ("viewer", "/search?q=水"),
        ("viewer", "/items/999999"),  # the 404 page too
    ],
)
def test_the_search_box_is_on_every_page(client, people, user, url):
    if user:
        login(client, people[user])
    page = client.get(url).get_data(as_text=True)
    assert SEARCH_BOX.search(page), url


def test_results_page_marks_the_hit_and_links_the_item(client, people, transit):
    login(client, people["secretariat"])
    r = client.get(
        "/search", query_string={"q": "ＤＥＭＡＮＤ"}
    )  # no hit: 「デマンド」 is katakana
    assert "見つかりませんでした" in r.get_data(as_text=True)
    r = client.get("/search", query_string={"q": "デマンド交通"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "検索結果：1件" in page
    assert "路線バスの再編と<mark>デマンド交通</mark>の導入を図る。" in page
    assert f'href="/items/{transit.id}"' in page
    assert "一致した箇所：概要" in page
    assert 'value="デマンド交通"' in page  # the box keeps the query


def test_results_page_escapes_what_it_shows(client, people):
    _item(people, title="<script>alert(1)</script>の検証")
    db.session.commit()
    login(client, people["secretariat"])
    page = client.get("/search", query_string={"q": "<script>"}).get_data(as_text=True)
    assert "<mark>&lt;script&gt;</mark>" in page
    assert "<script>alert" not in page


def test_results_page_pages(client, people):
    for n in range(23):
        _item(people, title=f"公共施設の長寿命化 その{n + 1}")
    db.session.commit()
    login(client, people["viewer"])
    first = client.get("/search", query_string={"q": "長寿命化"}).get_data(as_text=True)
    assert "検索結果：23件" in first
    assert first.count("<mark>長寿命化</mark>") == 20
    assert "その23<" in first
    assert "その4<" in first
    assert "その3<" not in first
    assert 'rel="next"' in first
    second = client.get("/search", query_string={"q": "長寿命化", "page": 2}).get_data(as_text=True)
    assert second.count("<mark>長寿命化</mark>") == 3
    assert "その3<" in second
    assert "その1<" in second
    assert 'rel="prev"' in second
    beyond = client.get("/search", query_string={"q": "長寿命化", "page": 99})
    assert beyond.status_code == 200
    assert "このページに結果はありません" in beyond.get_data(as_text=True)


def test_public_search_shows_published_items_with_public_links(client, people, transit):
    sec = people["secretariat"]
    meeting = _meeting(transit)
    _item(people, title="交通政策の下書き検討")
    db.session.commit()
    assert "見つかりませんでした" in client.get("/search?q=交通").get_data(as_text=True)
    meetings.record_outcome(sec, meeting, transit, "approved")
    for step in (meetings.hold, meetings.confirm, meetings.publish):
        step(sec, meeting)
    db.session.commit()
    page = client.get("/search?q=交通").get_data(as_text=True)
    assert "検索結果：1件" in page
    assert f'href="/public/items/{transit.id}"' in page
    assert "交通政策の下書き" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"q": ""}, "検索する語を入力してください。"),
        ({"q": "　 "}, "検索する語を入力してください。"),
        ({"q": "水" * 201}, "検索語は200文字以内で入力してください（現在201文字）。"),
        ({"q": "水", "page": "abc"}, None),
        ({"q": "水", "page": "-5"}, None),
        ({"q": "水", "page": "99999999999999999999"}, None),
    ],
)
def test_bad_queries_get_a_japanese_message_not_a_500(client, people, query, message):
    login(client, people["viewer"])
    r = client.get("/search", query_string=query)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    if message:
        assert message in page
        assert 'aria-invalid="true"' in page
    else:
        assert "検索結果：0件" in page


# -- the migration builds the same index -------------------------------------------------------


@pytest.fixture
def migrated_app(engine_name: str, tmp_path) -> Iterator[Flask]:
    """A database built by `flask db upgrade` (not create_all), with one item in it."""
    url = create_pg_database() if engine_name == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
    app = make_app(url)
    try:
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["db", "upgrade"])
            assert result.exit_code == 0, result.output
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if engine_name == "postgresql":
            drop_pg_database(url)


def _engine_index_exists(short_words: bool = False) -> bool:
    """The engine's trigram index, or with *short_words* its short-word index."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            sql = "SELECT count(*) FROM sqlite_master WHERE name = :name"
            name = GRAMS_TABLE if short_words else "search_fts"
        else:
            sql = "SELECT count(*) FROM pg_indexes WHERE indexname = :name"
            name = PG_GRAMS_INDEX if short_words else PG_TRGM_INDEX
        return conn.execute(sa.text(sql), {"name": name}).scalar() == 1


def test_the_migration_builds_the_engine_index(migrated_app):
    assert _engine_index_exists()
    assert _engine_index_exists(short_words=True)
    sec = make_user(Role.SECRETARIAT)
    dep = make_user(Role.DEPARTMENT)
    make_item(ItemStatus.SUBMITTED, department=dep, secretariat=sec, title="ＩＣＴ推進計画")
    db.session.commit()
    assert titles(sec, "ict推進") == ["ＩＣＴ推進計画"]  # three and more: the engine's index
    assert titles(sec, "推進") == ["ＩＣＴ推進計画"]
    db.session.remove()  # end the read transaction: SQLite's writer lock would block the DDL
    # Down to the revision before the search migration, whatever came after it.
    result = migrated_app.test_cli_runner().invoke(args=["db", "downgrade", "f942e37513f4"])
    assert result.exit_code == 0, result.output
    assert not _engine_index_exists()
    assert not _engine_index_exists(short_words=True)
    assert "search_documents" not in sa.inspect(db.engine).get_table_names()


def test_the_short_word_revision_indexes_the_texts_already_there(migrated_app):
    """Upgrading a database that predates the short-word index fills it from its texts."""
    runner = migrated_app.test_cli_runner()
    # The item is written at the head (the models are the head's), then the schema goes back
    # to before the short-word index with the item's texts kept.
    sec_id = make_user(Role.SECRETARIAT).id
    make_item(department=make_user(Role.DEPARTMENT), title="道路の維持管理")
    db.session.commit()
    db.session.remove()
    assert runner.invoke(args=["db", "downgrade", "321f28504f84"]).exit_code == 0
    assert not _engine_index_exists(short_words=True)
    assert _engine_index_exists()  # the trigram index stays
    db.session.remove()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert _engine_index_exists(short_words=True)
    sec = db.session.get(User, sec_id)
    assert titles(sec, "道路") == titles(sec, "維") == ["道路の維持管理"]


def test_search_results_page_is_stable_for_the_same_day(people):
    """Same inputs, same order: ties in time fall back to the id (newest first)."""
    made = [_item(people, title=f"同日の案件{n}") for n in range(3)]
    db.session.commit()
    found = search(people["secretariat"], "同日の案件", per_page=2)
    assert found.total == 3
    assert found.pages == 2
    ids = [h.item.id for h in found.hits] + [
        h.item.id for h in search(people["secretariat"], "同日の案件", page=2, per_page=2).hits
    ]
    assert sorted(ids) == sorted(i.id for i in made)
    assert len(set(ids)) == 3


def test_minutes_clause_agrees_with_can_read_minutes(people, transit):
    """The SQL that hides what was said is can_read_minutes, for every role and meeting state."""
    sec, meeting = people["secretariat"], _meeting(transit)
    steps = [
        lambda: None,
        lambda: meetings.record_outcome(sec, meeting, transit, "approved"),
        lambda: meetings.hold(sec, meeting),
        lambda: meetings.confirm(sec, meeting),
        lambda: meetings.publish(sec, meeting),
    ]
    # 中止 leaves the path: a second meeting, planned and then cancelled, shows that state.
    cancelled = make_meeting(sec, meeting.kind, meeting.date)
    seen = set()

    def agree(meeting) -> None:
        seen.add(meeting.status)
        for user in [None, *people.values()]:
            in_sql = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Meeting)
                .where(Meeting.id == meeting.id, readable_minutes(user))
            )
            assert bool(in_sql) == can_read_minutes(user, meeting), (user, meeting.status)

    for step in steps:
        step()
        db.session.flush()
        agree(meeting)
    meetings.cancel(sec, cancelled, reason="議題がないため")
    db.session.flush()
    agree(cancelled)
    assert seen == set(MeetingStatus)


def test_a_snippet_is_one_line(people):
    _item(people, title="改行の確認", summary="ア 循環バスの廃止\nイ  停留所の統合\n\nウ 運賃")
    db.session.commit()
    (hit,) = search_items(people["secretariat"], "停留所")
    assert hit.snippet == "ア 循環バスの廃止 イ 停留所の統合 ウ 運賃"


@pytest.mark.parametrize("q", ["橋", "橋りょう"])  # a scan, and the engine's trigram index
def test_search_reads_only_the_newest_matching_texts(people, monkeypatch, client, q):
    """Search stops after SEARCH_TEXT_LIMIT matching texts, newest written first; ranks those."""
    monkeypatch.setattr("workflow.queries.search.SEARCH_TEXT_LIMIT", 3)
    oldest = _item(people, ItemStatus.DRAFT, title="橋りょう長寿命化修繕計画")
    db.session.commit()
    for n in range(4):
        _item(people, title=f"道路維持 その{n}", summary="橋りょうの点検を含む")
        db.session.commit()
    sec = people["secretariat"]
    newest = search(sec, q)
    assert newest.limited
    assert newest.total == 3
    assert [h.item.title for h in newest.hits] == [
        "道路維持 その3",
        "道路維持 その2",
        "道路維持 その1",
    ]

    # Texts written again are the newest: the oldest item, edited, is read, and its title hit
    # ranks first.
    items.update_item(people["department"], oldest, {"remarks": "補修の優先度を見直し"})
    db.session.commit()
    edited = search(sec, q)
    assert (edited.total, edited.limited) == (3, True)
    assert [h.item.title for h in edited.hits] == [
        "橋りょう長寿命化修繕計画",
        "道路維持 その3",
        "道路維持 その2",
    ]

    monkeypatch.setattr("workflow.queries.search.SEARCH_TEXT_LIMIT", 10)
    everything = search(sec, q)
    assert (everything.total, everything.limited) == (5, False)
    assert everything.hits[0].item.id == oldest.id

    monkeypatch.setattr("workflow.queries.search.SEARCH_TEXT_LIMIT", 3)
    login(client, sec)
    page = client.get("/search", query_string={"q": q}).get_data(as_text=True)
    assert "検索結果：3件以上" in page
    assert "新しい順に3か所までを読み" in page


@pytest.mark.parametrize("q", ["橋", "橋りょう"])  # the short-word index, the trigram index
def test_a_window_of_the_newest_texts_gives_the_same_answer(people, monkeypatch, q):
    """PostgreSQL searches the newest SEARCH_WINDOW texts first, and all of them when those hold
    fewer than SEARCH_TEXT_LIMIT: the answer is the same either way, on every engine."""
    monkeypatch.setattr("workflow.queries.search.SEARCH_TEXT_LIMIT", 3)
    # Windows as wide as SEARCH_WINDOW, whatever statistics an earlier test left behind.
    monkeypatch.setattr("workflow.queries.search._short_word_share", lambda word: None)
    for n in range(12):  # older texts, so that a window is a quarter of them or less
        _item(people, title=f"公園の再整備 その{n}", summary="遊具の更新")
    for n in range(3):
        _item(people, title=f"橋りょう長寿命化 その{n}", summary="市道の整備")
        db.session.commit()
    newest = []
    for n in range(4):
        newest.append(_item(people, title=f"道路維持 その{n}", summary="橋りょうの点検を含む"))
        db.session.commit()
    sec = people["secretariat"]
    enough = db.session.scalar(  # the texts of the newest three items, each saying 橋 once
        sa.select(sa.func.count()).where(
            SearchDocument.item_id.in_([item.id for item in newest[1:]])
        )
    )

    def answer(window: int) -> tuple:
        monkeypatch.setattr("workflow.queries.search.SEARCH_WINDOW", window)
        found = search(sec, q)
        return [h.item.title for h in found.hits], found.total, found.limited

    def windows(window: int) -> list[str]:
        """The statements that searched a window of the newest texts (PostgreSQL only)."""
        with counting() as statements:
            assert answer(window) == everything
        return [s for s in statements if "search_documents.id >=" in s]

    everything = answer(10_000)
    assert everything == (["道路維持 その3", "道路維持 その2", "道路維持 その1"], 3, True)
    postgresql = db.engine.dialect.name == "postgresql"
    assert windows(10_000) == []  # the window holds every text: none
    assert len(windows(enough)) == (1 if postgresql else 0)  # enough there: one search
    # Too few in one text: wider windows, then maybe every text.
    assert len(windows(1)) >= (1 if postgresql else 0)
    assert windows(1) == [] or postgresql


def test_unstorable_queries_are_refused_in_japanese(client, people):
    """NUL never reaches the database: the app refuses it before the view (400), and so would
    the service (check_query) for any caller that skipped that."""
    with pytest.raises(ValidationFailed, match="使用できない文字"):
        check_query("水\x00")
    r = client.get("/search", query_string={"q": "水\x00"})
    assert r.status_code in (200, 400)
    assert re.search(r"使用できない文字|リクエストが正しくありません", r.get_data(as_text=True))
