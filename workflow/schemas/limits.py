"""How long a field may be and which characters can be stored: said once, read by the pydantic
schemas, the WTForms forms, the model columns and the API's query parameters."""

from __future__ import annotations

import re

TITLE_MAX = 200  # 案件名
LINE_MAX = 200  # one-line fields: a venue, dates typed as text, a timing, a heading
NAME_MAX = 100  # names of a section, bureau, person or job title
EMAIL_MAX = 254  # an e-mail address (RFC 5321's path limit)
TOKEN_NAME_MAX = 100  # what an API token's owner calls it
CODE_MAX = 40  # codes (a meeting kind) and short fields such as an extension number
POLICY_REF_MAX = 400  # 施策番号及び実施計画事業名
SUBMITTER_KIND_MAX = 50  # 個人 / 団体 / 事業者
REASON_MAX = 2000  # a reason, the way to submit an opinion
TEXT_MAX = 20_000  # long text: summary, bodies, remarks, opinions
ROWS_MAX = 100  # rows of any repeatable part
ROUTE_MAX = 10  # meetings on an item's route (each kind at most once)
QUERY_MAX = 200  # a search or filter term in a query string
NUMBER_MAX = 9999  # 第N回, a submitter's number, a fiscal year
ID_MAX = 2**31 - 1  # ids beyond a 32-bit integer cannot exist; PostgreSQL refuses to compare them

# NUL cannot be stored by PostgreSQL; lone surrogates cannot be encoded as UTF-8. A one-line
# value (a code, a query term) takes no control character either.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNSTORABLE_ON_ONE_LINE = re.compile("[\x00-\x1f\ud800-\udfff]")

UNSTORABLE_MESSAGE = "使用できない文字（制御文字など）が含まれています。"


def storable(text: str, *, one_line: bool = False) -> bool:
    """Whether every database (and UTF-8) can hold *text*; *one_line* refuses control characters."""
    return not (_UNSTORABLE_ON_ONE_LINE if one_line else _UNSTORABLE).search(text)


def too_long_message(limit: int, length: int) -> str:
    """The one message for text past its limit."""
    return f"{limit}文字以内で入力してください（現在{length}文字）。"


def is_code(value: object) -> bool:
    """A code such as a meeting kind: a short printable string the database can compare."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= CODE_MAX
        and value.isprintable()  # no control character, no lone surrogate
    )
