"""openapi.json: a valid OpenAPI 3.1 document naming every route, and the API keeps to it.

Schemathesis generates requests from the document (anonymous and as the secretariat) against the
app with the sample's whole path loaded: no answer is a 500, none breaks its documented schema.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from tests.factories import item_meeting_id, make_item, make_section, make_user
from tests.support import token_for
from workflow.api.openapi import openapi_document
from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.states.states import ItemStatus, Role

API_PREFIX = "/api/v1"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def test_the_document_is_valid_openapi_3_1(app):
    doc = openapi_document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def _spec_path(rule: str) -> str:
    """Flask's ``/items/<int:item_id>`` as OpenAPI's ``/items/{item_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_is_in_the_document(app):
    paths = openapi_document()["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX):
            continue
        path = _spec_path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []
    # … and the document names nothing the app does not serve.
    served = {_spec_path(r.rule) for r in app.url_map.iter_rules()}
    assert set(paths) <= served


@pytest.fixture
def loaded_app(app):
    """The app with the sample's whole path, a draft and a scheduled item, and a token."""
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    department = make_user(Role.DEPARTMENT, section)
    secretariat = make_user(Role.SECRETARIAT)
    path = play_sample(department, secretariat)
    draft = make_item(department=department, secretariat=secretariat)
    scheduled = make_item(ItemStatus.SCHEDULED, department=department, secretariat=secretariat)
    app.config["API_TEST_TOKEN"] = token_for(secretariat)
    db.session.commit()
    planned = item_meeting_id(scheduled)
    published = path.meetings["policy_coordination"].id
    # Path parameters that name real rows, so the generated cases reach past the 404.
    app.config["API_TEST_IDS"] = [
        {"item_id": path.item.id, "meeting_id": published, "number": 1},
        {"item_id": draft.id, "meeting_id": planned, "number": 1},
        {"item_id": scheduled.id, "meeting_id": planned, "number": 1},
    ]
    return app


FUZZ = settings(
    max_examples=5,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _fuzz(app, headers: dict[str, str] | None) -> list[str]:
    """Run every operation's generated cases (valid and invalid input); return the failures."""
    api = schemathesis.openapi.from_wsgi(f"{API_PREFIX}/openapi.json", app)
    failures = []
    for result in api.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        variants = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        if names:
            variants += [
                (GenerationMode.POSITIVE, {k: v for k, v in ids.items() if k in names})
                for ids in app.config["API_TEST_IDS"]
            ]
        for mode, path_parameters in variants:

            @FUZZ
            @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
            def run(case):
                try:
                    case.call_and_validate(headers=headers, checks=CHECKS)
                finally:
                    db.session.rollback()  # a failed check must not poison the next example

            try:
                run()
            except Unsatisfiable:
                pass  # no invalid input exists for an operation without parameters
            except Exception as exc:  # collect them all: one run shows every broken operation
                failures.append(f"{operation.label} [{mode.value} {path_parameters}]: {exc}")
    return failures


def test_api_keeps_its_schema_anonymously(loaded_app):
    failures = _fuzz(loaded_app, None)
    assert failures == [], "\n\n".join(failures)


def test_api_keeps_its_schema_as_the_secretariat(loaded_app):
    headers = {"Authorization": f"Bearer {loaded_app.config['API_TEST_TOKEN']}"}
    failures = _fuzz(loaded_app, headers)
    assert failures == [], "\n\n".join(failures)


def test_every_write_documents_the_idempotency_key(app):
    doc = openapi_document()
    writes = [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in {"post", "put", "patch", "delete"}
    ]
    assert len(writes) >= 11  # every POST, PUT, PATCH and DELETE of the API
    for path, method, op in writes:
        where = f"{method.upper()} {path}"
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in op["parameters"], where
        ok = next(code for code in op["responses"] if code.startswith("2"))
        assert "Idempotent-Replayed" in op["responses"][ok]["headers"], where
        assert "idempotency_key_in_use" in op["responses"]["409"]["description"], where
        assert "idempotency_key_reused" in op["responses"]["422"]["description"], where
        assert "outcome_unknown" in op["responses"]["503"]["description"], where
    parameter = doc["components"]["parameters"]["IdempotencyKey"]
    assert parameter["in"] == "header"
    assert parameter["schema"]["maxLength"] == 255
    reads = [op for item in doc["paths"].values() for m, op in item.items() if m == "get"]
    assert all("IdempotencyKey" not in str(op.get("parameters", [])) for op in reads)
