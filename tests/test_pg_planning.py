"""PostgreSQL plans every statement for its parameters (workflow.database._custom_plans_always).

psycopg prepares a statement on the server after five runs, and the server may then switch to a
generic plan, made without the parameters; for a search whose best plan depends on who asks and
what is searched, that plan was measured at > 80 s where the custom plan took 70 ms.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.factories import make_item, make_user
from workflow.extensions import db
from workflow.queries.search import search
from workflow.states.states import ItemStatus, Role


@pytest.fixture(autouse=True)
def _postgresql_only(engine_name: str) -> None:
    if engine_name != "postgresql":
        pytest.skip("PostgreSQL's plan cache; SQLite plans every statement anew")


def test_every_connection_plans_with_the_parameters_and_without_jit(app):
    settings = sa.text("SELECT current_setting('plan_cache_mode'), current_setting('jit')")
    assert tuple(db.session.execute(settings).one()) == ("force_custom_plan", "off")
    db.session.remove()
    db.engine.dispose()  # a new connection gets them too
    assert tuple(db.session.execute(settings).one()) == ("force_custom_plan", "off")


def test_a_repeated_search_is_prepared_but_never_planned_generically(app):
    sec, dep = make_user(Role.SECRETARIAT), make_user(Role.DEPARTMENT)
    for n in range(3):
        make_item(ItemStatus.SUBMITTED, department=dep, secretariat=sec, title=f"市民協働{n}")
    db.session.commit()
    for _ in range(15):  # past psycopg's prepare threshold and the server's five custom plans
        assert search(None, "市").total == 0  # nothing published: the public sees none
        assert search(sec, "市").total == 3
    generic, custom = db.session.execute(
        sa.text(
            "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)"
            " FROM pg_prepared_statements"
            # A statement without parameters has one plan, which the server counts as generic
            # (search's SET LOCAL statement_timeout = …, for one).
            " WHERE cardinality(parameter_types) > 0"
        )
    ).one()
    assert custom > 0  # the statements were prepared on the server
    assert generic == 0
