"""The field types every body is made of, each with its rule and its Japanese message.

A type is an ``Annotated`` alias: the validator says what is accepted (and in what words it is
refused), ``WithJsonSchema`` what the OpenAPI document shows. :func:`validate` turns pydantic's
errors into the API's one error shape, ``details["fields"]`` keyed ``history[0].when``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from enum import Enum
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.models import MeetingKind
from workflow.pdf import fonts
from workflow.schemas.limits import (
    ID_MAX,
    LINE_MAX,
    ROWS_MAX,
    UNSTORABLE_MESSAGE,
    is_code,
    storable,
    too_long_message,
)
from workflow.wareki import WarekiError, parse_wareki

M = TypeVar("M", bound=BaseModel)

REQUIRED = "入力してください。"
NOT_TEXT = "文字列で入力してください。"
NOT_YES_NO = "あり（true）かなし（false）で指定してください。"
NOT_AN_OBJECT = "オブジェクトで指定してください。"
NOT_A_LIST = "一覧（配列）で指定してください。"
NOT_AN_INTEGER = "整数で指定してください。"
NOT_A_DATE = "日付（YYYY-MM-DD または 和暦）で入力してください。"
NOT_A_TIME = "時刻（HH:MM）で入力してください。"
UNKNOWN_KEY = "この項目はありません。"
LINE_BREAK_MESSAGE = "改行は入力できません（1行で入力してください）。"
ONE_LINE_PATTERN = "^[^\\r\\n]*$"  # the document's word for a one-line value


def refuse(message: str) -> PydanticCustomError:
    """A validation error whose message is shown as it is (braces in *message* stay braces)."""
    return PydanticCustomError("chogi", "{message}", {"message": message})


def refuse_at(field: str | tuple[str | int, ...], message: str) -> ValidationError:
    """A model's refusal placed on one of its fields (for a rule across fields); a tuple names
    a field inside a row, e.g. ``("attendance", 2, "section")``."""
    loc = field if isinstance(field, tuple) else (field,)
    return ValidationError.from_exception_data(
        "chogi", [InitErrorDetails(type=refuse(message), loc=loc, input=None)]
    )


class Body(BaseModel):
    """A request body: unknown keys are refused, never silently dropped (a typo must show)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    # Field (``attendance.deputy``: list indices left out) → the message that replaces the
    # generic one when the key is missing or has the wrong JSON type.
    field_messages: ClassVar[dict[str, str]] = {}
    # The 422's message; by default it names the first problem.
    failure_message: ClassVar[str | None] = None


# -- text --------------------------------------------------------------------------------------


def check_text(
    value: str, limit: int, *, required: bool = False, one_line: bool | None = None
) -> str:
    """The one text rule: storable, trimmed, present if *required*, within *limit*, printable.

    A one-line value (by default one whose *limit* is at most LINE_MAX) takes no line break.
    """
    if one_line is None:
        one_line = limit <= LINE_MAX
    if not storable(value):
        raise refuse(UNSTORABLE_MESSAGE)
    if one_line:
        # Refused, not joined or cut: the writer must see that their text is not what is kept,
        # and a title printed on the forms, a file name or a heading has no room for a break.
        if "\n" in value or "\r" in value:
            raise refuse(LINE_BREAK_MESSAGE)
        # A one-line value loses surrounding blanks.
        value = value.strip()
    else:
        # Line breaks as one character: a browser sends a textarea's as CR LF, the API as LF;
        # the same text must be stored once (and not seem changed to a version's comparison).
        # Long text keeps its leading indentation.
        value = value.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    if required and not value:
        raise refuse(REQUIRED)
    if len(value) > limit:
        raise refuse(too_long_message(limit, len(value)))
    try:
        # Refuse at input what the official forms could never print (it would be tofu).
        fonts.needs_fallback(value)
    except fonts.UnprintableCharacterError as exc:
        raise refuse(exc.message) from None
    return value


def _none_is_empty(value: Any) -> Any:
    return "" if value is None else value


def text(
    limit: int, *, required: bool = False, nullable: bool = False, one_line: bool | None = None
) -> Any:
    """A string of at most *limit* characters; ``null`` is the empty string.

    *one_line* refuses line breaks; by default a *limit* of at most LINE_MAX means one line.
    """
    schema: dict[str, Any] = {
        "type": ["string", "null"] if nullable else "string",
        "maxLength": limit,
    }
    if required:
        schema["minLength"] = 1
    if limit <= LINE_MAX if one_line is None else one_line:
        schema["pattern"] = ONE_LINE_PATTERN
    return Annotated[
        str,
        BeforeValidator(_none_is_empty),
        AfterValidator(lambda v: check_text(v, limit, required=required, one_line=one_line)),
        WithJsonSchema(schema),
    ]


# -- choices, flags, numbers, dates ------------------------------------------------------------


def choice_labels(enum_cls: type[Enum], sep: str = "（", end: str = "）") -> str:
    """``none（なし）、materials（資料提供）`` (each member's value and label)."""
    return "、".join(f"{m.value}{sep}{m.label}{end}" for m in enum_cls)


def enum_schema(enum_cls: type[Enum], description: str = "", *, nullable=False) -> dict:
    """The document's view of a choice: every value, and each label in the description."""
    labels = choice_labels(enum_cls, "=", "")
    return {
        "type": ["string", "null"] if nullable else "string",
        "description": f"{description} ({labels})".strip(),
        "enum": [m.value for m in enum_cls] + ([None] if nullable else []),
    }


def choice(
    enum_cls: type[Enum], description: str = "", *, message: str | None = None, nullable=False
) -> Any:
    """One of *enum_cls*'s values; the message and the document list every value with its label."""
    refused = (message or "次のいずれかを指定してください: {allowed}").format(
        allowed=choice_labels(enum_cls)
    )

    def parse(value: Any) -> Any:
        if value in (None, "") and nullable:
            return None
        try:
            return enum_cls(value)
        except (ValueError, TypeError):
            raise refuse(refused) from None

    schema = enum_schema(enum_cls, description, nullable=nullable)
    # Typed Any for pydantic: the members pass through to the services as they are.
    return Annotated[Any, PlainValidator(parse), WithJsonSchema(schema)]


def flag(message: str = NOT_YES_NO) -> Any:
    """A JSON boolean (``"yes"`` or ``1`` are not)."""

    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise refuse(message)

    return Annotated[bool, PlainValidator(parse), WithJsonSchema({"type": "boolean"})]


def integer(
    minimum: int = 1, maximum: int = ID_MAX, *, message: str | None = None, nullable: bool = False
) -> Any:
    """A JSON integer in range (booleans are not numbers here)."""

    def parse(value: Any) -> int | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise refuse(message or NOT_AN_INTEGER)
        if not minimum <= value <= maximum:
            raise refuse(message or f"{minimum}以上{maximum}以下の整数で指定してください。")
        return value

    schema = {"type": ["integer", "null"] if nullable else "integer"}
    schema.update(minimum=minimum, maximum=maximum)
    return Annotated[int | None, PlainValidator(parse), WithJsonSchema(schema)]


ID = integer()


def day(*, required: str | None = None) -> Any:
    """A date as YYYY-MM-DD or 和暦 (令和元年10月8日, R1.10.8); empty is None unless *required*."""

    def parse(value: Any) -> date | None:
        if value in (None, ""):
            if required:
                raise refuse(required)
            return None
        if isinstance(value, date):
            return value
        if not isinstance(value, str):
            raise refuse(NOT_A_DATE)
        try:
            return parse_wareki(value)
        except WarekiError as exc:
            raise refuse(str(exc)) from None

    schema = {"type": "string" if required else ["string", "null"], "format": "date"}
    return Annotated[date | None, PlainValidator(parse), WithJsonSchema(schema)]


def clock_time() -> Any:
    """A time of day, HH:MM; empty is None."""

    def parse(value: Any) -> time | None:
        if value in (None, ""):
            return None
        if isinstance(value, time):
            return value
        if isinstance(value, str):
            try:
                return time.fromisoformat(value)
            except ValueError:
                pass
        raise refuse(NOT_A_TIME)

    return Annotated[
        time | None,
        PlainValidator(parse),
        WithJsonSchema({"type": "string", "description": "HH:MM"}),
    ]


def code(message: str, *, nullable: bool = False) -> Any:
    """A meeting kind's code (whether it exists is for the service to say)."""

    def parse(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if not is_code(value):
            raise refuse(message)
        return value

    schema = {**KIND_SCHEMA, "type": ["string", "null"]} if nullable else KIND_SCHEMA
    return Annotated[str | None, PlainValidator(parse), WithJsonSchema(schema)]


def meeting_kind(*, nullable: bool = False) -> Any:
    """A meeting kind that exists (``null`` or empty: none)."""

    def parse(value: Any) -> str | None:
        if value in (None, ""):
            return None
        if is_code(value) and _kind_exists(value):
            return value
        raise refuse(f"会議の種類「{value}」はありません。")

    schema = {**KIND_SCHEMA, "type": ["string", "null"]} if nullable else KIND_SCHEMA
    return Annotated[str | None, PlainValidator(parse), WithJsonSchema(schema)]


def _kind_exists(code_: str) -> bool:
    return db.session.get(MeetingKind, code_) is not None


KIND_SCHEMA = {
    "type": "string",
    "description": "会議の種類のコード (section_managers, affairs_coordination, bureau_policy, "
    "policy_coordination, policy_decision …)",
}


def rows(row: Any, *, max_rows: int = ROWS_MAX, **field: Any) -> Any:
    """A list of *row* (``null`` is no rows), at most *max_rows* long."""

    def count(value: Any) -> Any:
        if value is None:
            return []
        # Too many rows is one message, not one per row.
        if isinstance(value, list) and len(value) > max_rows:
            raise refuse(f"{max_rows}行以内にしてください（現在{len(value)}行）。")
        return value

    return Annotated[list[row], BeforeValidator(count), Field(max_length=max_rows, **field)]


# -- what answers are made of ---------------------------------------------------------------
# The serializers build plain dicts (``TypedDict``s below each noun); these say what the strings
# in them look like.


def as_string(json_type: str = "string", nullable: bool = False, **schema: Any) -> Any:
    """A value sent as it is, with the document's *schema* (``format``, ``description`` …)."""
    type_ = [json_type, "null"] if nullable else json_type
    return Annotated[Any, WithJsonSchema({"type": type_, **schema})]


def enum_value(enum_cls: type[Enum], description: str = "", *, nullable=False) -> Any:
    """A choice in an answer: its value."""
    return Annotated[Any, WithJsonSchema(enum_schema(enum_cls, description, nullable=nullable))]


IsoDate = as_string(format="date")  # YYYY-MM-DD
IsoDateTime = as_string(format="date-time")  # UTC, ISO 8601
Id = Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": ID_MAX})]


# -- pydantic's errors in the API's shape ------------------------------------------------------


def _path(loc: tuple[int | str, ...]) -> str:
    """``("history", 0, "when")`` → ``history[0].when``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _message(error: Mapping[str, Any], overrides: Mapping[str, str]) -> str:
    kind = error["type"]
    if kind == "chogi":
        return error["ctx"]["message"]
    if kind == "extra_forbidden":
        return UNKNOWN_KEY
    general = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
    if general in overrides:
        return overrides[general]
    match kind:
        case "missing":
            return REQUIRED
        case "string_type":
            return NOT_TEXT
        case "list_type":
            return NOT_A_LIST
        case "model_type" | "model_attributes_type" | "dict_type":
            return NOT_AN_OBJECT
    return "正しい値を指定してください。"


def error_fields(exc: ValidationError, overrides: Mapping[str, str] = {}) -> dict[str, list[str]]:  # noqa: B006
    """pydantic's errors as field → Japanese messages."""
    fields: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        fields.setdefault(_path(error["loc"]), []).append(_message(error, overrides))
    return fields


def failed(fields: dict[str, list[str]], message: str | None = None) -> ValidationFailed:
    """The 422 for *fields*; its message names the first problem unless *message* is given."""
    first = next(iter(fields.values()))[0]
    return ValidationFailed(message or f"入力内容に誤りがあります: {first}", fields)


def validate(model: type[M], data: Any, *, message: str | None = None) -> M:
    """*data* checked against *model*, or ValidationFailed (422) with every field's message."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise failed(
            error_fields(exc, model.field_messages), message or model.failure_message
        ) from None


_ADAPTERS: dict[Any, TypeAdapter] = {}


def validate_value(type_: Any, field: str, value: Any, *, message: str | None = None) -> Any:
    """One value checked against a field type of a body (for services given keyword arguments)."""
    adapter = _ADAPTERS.get(type_)
    if adapter is None:
        adapter = _ADAPTERS[type_] = TypeAdapter(type_)
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        messages = [_message(e, {}) for e in exc.errors()]
        raise ValidationFailed(message or messages[0], {field: messages}) from None
