"""Issue 17's fault test: the app's database backends killed during a burst of writes.

A gunicorn server with two workers serves the suite's PostgreSQL database. Client threads file
items, submit them and have the secretariat accept them, each request with its own
``Idempotency-Key``; a killer thread on its own connection meanwhile terminates every backend of
the database but the test's own, every 0.5–1.5 s. An answer that may be retried (503
``database_unavailable`` or ``outcome_unknown``, 409 ``idempotency_key_in_use``, or no answer at
all) is sent again with the same key and body until a final answer arrives; after the burst the
killer stops and the last retries complete.

What the answers must have told the truth about:

- every 2xx answer matches a committed change: the answered item exists, once, with that id;
  a 2xx submit or accept left its history row and the item's status;
- every "not saved" answer matches none: a title (an event) answered 503
  ``database_unavailable`` was not in the database at that moment, looked up from the client
  thread right then (when no earlier attempt of the same operation could have committed it);
  an operation whose final answer is a 4xx (409 ``conflict``) left nothing;
- retrying with the same key made no duplicate, and a retry of a 2xx is that answer replayed;
- every response carries the app's headers and JSON, with the error shape when not 2xx:
  none is gunicorn's bare "Internal Server Error" page, and no connection is dropped.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from tests.factories import make_section, make_user
from tests.support import API, Server, start_server, stop_server, token_for, wait_ready
from workflow.audit import verify_chain
from workflow.extensions import db
from workflow.models import HistoryEvent, Item
from workflow.states.states import ItemStatus, Role

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CLIENTS = 4  # client threads; the server has two sync workers
BURST_SECONDS = 25.0  # new operations start only within the burst; the killer runs during it
SETTLE_SECONDS = 15.0  # after the burst, the last operations' retries (no more kills)
KILL_EVERY = (0.5, 1.5)  # seconds between two rounds of the killer
HTTP_TIMEOUT = 10.0  # every request; the server's worker timeout is 60 s
RETRY_PAUSE = 0.2
MAX_ATTEMPTS = 30  # of one operation
HARNESS = "chogi-fault-harness"  # application_name of the test's own connections
SECTION = "情報政策課"
# What 申込 requires besides title and section (the API fills no defaults; issue 20).
COMPLETE = {
    "applied_on": "2019-08-01",
    "route": ["section_managers", "policy_coordination"],
    "target_kind": "policy_coordination",
    "bureau": "企画財政局",
    "summary": "障害試験の案件の概要。",
    "discussion_points": ["障害試験の論点"],
}
NOT_SAVED = "保存されていません"
RETRYABLE = {
    (503, "database_unavailable"),
    (503, "outcome_unknown"),
    (409, "idempotency_key_in_use"),
}
# The 4xx a valid request may get under faults: someone else's change first, nothing saved.
NOT_SAVED_4XX = {(409, "conflict")}
# The item's status after each 2xx.
STATUS_AFTER = {
    "create": ItemStatus.DRAFT,
    "submit": ItemStatus.SUBMITTED,
    "accept": ItemStatus.ACCEPTED,
}


# -- what was sent and answered -------------------------------------------------------------------


@dataclass
class Answer:
    """One attempt: the response (status None: no response at all) and when it came."""

    status: int | None
    headers: dict[str, str]  # names in lower case
    body: bytes
    error: str | None = None
    saved_then: int | None = None  # rows of the change in the database when it came (probe)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def code(self) -> str | None:
        data = self.json
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return data["error"].get("code")
        return None

    @property
    def retryable(self) -> bool:
        return self.status is None or (self.status, self.code) in RETRYABLE

    @property
    def replayed(self) -> bool:
        return self.headers.get("idempotent-replayed", "").lower() == "true"

    def label(self) -> str:
        if self.status is None:
            return f"no response ({self.error})"
        code = self.code
        return f"{self.status} {code}" if code else str(self.status)


@dataclass
class Operation:
    """One logical write, sent until a final answer: every attempt the same key and body."""

    kind: str  # create, submit, accept
    title: str
    path: str
    body: bytes
    token: str
    item_id: int | None = None  # events: the item; creates: from the 2xx answer
    key: str = field(default_factory=lambda: f"fault-{uuid.uuid4()}")
    answers: list[Answer] = field(default_factory=list)

    @property
    def final(self) -> Answer | None:
        last = self.answers[-1] if self.answers else None
        return None if last is None or last.retryable else last

    @property
    def succeeded(self) -> bool:
        return self.final is not None and 200 <= self.final.status < 300

    def name(self) -> str:
        return f"{self.kind} {self.title!r} (key {self.key})"

    def history(self) -> str:
        return " → ".join(a.label() for a in self.answers)


def _send(server: Server, op: Operation) -> Answer:
    headers = {
        "Authorization": f"Bearer {op.token}",
        "Content-Type": "application/json",
        "Idempotency-Key": op.key,
    }
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=HTTP_TIMEOUT)
    try:
        conn.request("POST", op.path, body=op.body, headers=headers)
        response = conn.getresponse()
        body = response.read()
        names = {k.lower(): v for k, v in response.getheaders()}
        return Answer(response.status, names, body)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, {}, b"", error=f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


# -- the test's own connections: the probe and the killer -----------------------------------------


class Probe:
    """A connection of the test's own (never killed) that looks a change up while a client waits."""

    def __init__(self, conninfo: str) -> None:
        self.conn = _connect(conninfo)
        self.pid = self.conn.info.backend_pid
        self.lock = threading.Lock()

    def saved(self, op: Operation) -> int:
        """How many rows of *op*'s change the database holds now."""
        if op.kind == "create":
            sql, params = "SELECT count(*) FROM items WHERE title = %s", (op.title,)
        else:
            sql = "SELECT count(*) FROM history_events WHERE item_id = %s AND event = %s"
            params = (op.item_id, op.kind)
        with self.lock:
            return self.conn.execute(sql, params).fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def _connect(conninfo: str) -> psycopg.Connection:
    """A connection of the test's own: named so the killer spares it, bounded in time."""
    return psycopg.connect(
        conninfo,
        autocommit=True,
        application_name=HARNESS,
        connect_timeout=10,
        options="-c statement_timeout=10000",
    )


# state: "active" (running a statement) or "idle in transaction" is a request caught mid-way.
_KILL = """
SELECT pg_terminate_backend(pid), state IN ('active', 'idle in transaction')
FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend'
  AND pid <> pg_backend_pid() AND pid <> ALL(%(spared)s)
  AND application_name IS DISTINCT FROM %(harness)s
"""


class Killer(threading.Thread):
    """Terminate every backend of the test database but the test's own, every 0.5–1.5 s."""

    def __init__(self, conninfo: str, spared: list[int]) -> None:
        super().__init__(name="killer", daemon=True)
        self.conninfo = conninfo
        self.spared = spared
        self.stop = threading.Event()
        self.rounds = 0
        self.kills = 0
        self.busy_kills = 0  # of backends in a transaction or running a statement
        self.error: BaseException | None = None

    def run(self) -> None:
        rng = random.Random(17)  # noqa: S311 (timing, not secrets)
        try:
            with _connect(self.conninfo) as conn:
                while not self.stop.wait(rng.uniform(*KILL_EVERY)):
                    params = {"spared": self.spared, "harness": HARNESS}
                    killed = conn.execute(_KILL, params).fetchall()
                    self.rounds += 1
                    self.kills += sum(1 for done, _busy in killed if done)
                    self.busy_kills += sum(1 for done, busy in killed if done and busy)
        except BaseException as exc:  # reported by the test: a harness fault, not the app's
            self.error = exc


# -- the clients ----------------------------------------------------------------------------------


@dataclass
class Client:
    number: int
    department: str  # tokens
    secretariat: str


class Burst:
    def __init__(self, server: Server, probe: Probe, burst_end: float, settle_end: float):
        self.server = server
        self.probe = probe
        self.burst_end = burst_end
        self.settle_end = settle_end
        self.operations: list[Operation] = []
        self.lock = threading.Lock()
        self.errors: list[str] = []

    def complete(self, op: Operation) -> None:
        """Send *op* until a final answer (or out of attempts or time)."""
        with self.lock:
            self.operations.append(op)
        while True:
            answer = _send(self.server, op)
            # "Not saved" must be true right now; only this attempt could have saved it when
            # every earlier one was "not saved" too (checked so) — not after a dropped
            # connection, an outcome_unknown or a key in use (an earlier attempt may have).
            if (answer.status, answer.code) == (503, "database_unavailable") and all(
                (a.status, a.code) == (503, "database_unavailable") for a in op.answers
            ):
                answer.saved_then = self.probe.saved(op)
            op.answers.append(answer)
            if not answer.retryable:
                return
            if len(op.answers) >= MAX_ATTEMPTS or time.monotonic() >= self.settle_end:
                return
            time.sleep(RETRY_PAUSE)

    def run_client(self, client: Client) -> None:
        try:
            self._client(client)
        except BaseException as exc:
            with self.lock:
                self.errors.append(f"client {client.number}: {type(exc).__name__}: {exc}")

    def _client(self, client: Client) -> None:
        n = 0
        while time.monotonic() < self.burst_end:
            n += 1
            title = f"障害試験 {client.number}-{n}"
            body = json.dumps({**COMPLETE, "title": title, "section": SECTION}, ensure_ascii=False)
            create = Operation("create", title, f"{API}/items", body.encode(), client.department)
            self.complete(create)
            if not create.succeeded:
                continue
            data = create.final.json
            create.item_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(create.item_id, int):
                continue  # reported by the checks
            for event, token in (("submit", client.department), ("accept", client.secretariat)):
                if time.monotonic() >= self.burst_end:
                    break
                path = f"{API}/items/{create.item_id}/events/{event}"
                op = Operation(event, title, path, b"{}", token, item_id=create.item_id)
                self.complete(op)
                if not op.succeeded:
                    break


# -- the checks -----------------------------------------------------------------------------------


class Problems:
    """Problems by kind, a few examples of each in the report."""

    def __init__(self) -> None:
        self.by_kind: dict[str, list[str]] = {}

    def add(self, kind: str, text: str) -> None:
        self.by_kind.setdefault(kind, []).append(text)

    def __bool__(self) -> bool:
        return bool(self.by_kind)

    def report(self, examples: int = 4) -> str:
        lines = []
        for kind, texts in self.by_kind.items():
            lines.append(f"{kind}: {len(texts)}")
            lines.extend(f"    {t}" for t in texts[:examples])
        return "\n".join(lines)


def _check_response(op: Operation, answer: Answer, problems: Problems) -> None:
    """The app's headers and JSON on every response; the error shape when not 2xx."""
    where = f"{op.name()}: {answer.label()}"
    if answer.status is None:
        problems.add("no response (connection dropped or timed out)", where)
        return
    missing = [
        name
        for name in ("x-request-id", "x-content-type-options", "content-security-policy")
        if not answer.headers.get(name)
    ]
    if b"Internal Server Error" in answer.body and not answer.body.lstrip().startswith(b"{"):
        problems.add("gunicorn's bare Internal Server Error page", where)
    elif missing or answer.headers.get("x-content-type-options") != "nosniff":
        problems.add("response without the app's headers", f"{where}, missing {missing}")
    if not answer.headers.get("content-type", "").startswith("application/json"):
        problems.add(
            "response not application/json", f"{where}: {answer.headers.get('content-type')}"
        )
        return
    data = answer.json
    if answer.status >= 400:
        error = data.get("error") if isinstance(data, dict) else None
        if (
            not isinstance(error, dict)
            or set(data) != {"error"}
            or set(error) != {"code", "message", "details"}
        ):
            problems.add("error without the error shape", f"{where}: {answer.body[:200]!r}")
            return
        if (answer.status, answer.code) == (503, "database_unavailable") and (
            NOT_SAVED not in error["message"]
        ):
            problems.add("database_unavailable that does not say 保存されていません", where)
    elif not isinstance(data, dict):
        problems.add("2xx without a JSON object", f"{where}: {answer.body[:200]!r}")


def _check_answers(op: Operation, problems: Problems) -> None:
    for answer in op.answers:
        _check_response(op, answer, problems)
        if answer.saved_then:
            problems.add(
                "「保存されていません」(503 database_unavailable) but it was saved",
                f"{op.name()}: {answer.saved_then} row(s) already there; {op.history()}",
            )
        if answer.status is not None and answer.status >= 500 and not answer.retryable:
            problems.add("unexpected 5xx", f"{op.name()}: {op.history()}")
    final = op.final
    if final is None:
        problems.add("no final answer after retrying", f"{op.name()}: {op.history()}")
    elif 400 <= final.status < 500 and (final.status, final.code) not in NOT_SAVED_4XX:
        problems.add("unexpected 4xx to a valid request", f"{op.name()}: {op.history()}")


def _check_database(operations: list[Operation], problems: Problems) -> None:
    """Each operation's final answer against what the database holds after the burst."""
    db.session.rollback()
    items: dict[str, list[tuple[int, ItemStatus]]] = {}
    for item_id, title, status in db.session.execute(sa.select(Item.id, Item.title, Item.status)):
        items.setdefault(title, []).append((item_id, status))
    events = Counter(
        tuple(row)
        for row in db.session.execute(sa.select(HistoryEvent.item_id, HistoryEvent.event))
    )
    db.session.rollback()

    creates = {op.title: op for op in operations if op.kind == "create"}
    for title, rows in items.items():
        if len(rows) > 1:
            op = creates.get(title)
            problems.add(
                "duplicate item",
                f"{title!r} ×{len(rows)} (ids {[r[0] for r in rows]}); "
                f"{op.history() if op else 'not ours'}",
            )
        if title not in creates:
            problems.add("an item no client created", f"{title!r}")

    for op in operations:
        final = op.final
        if final is None:
            continue  # reported: no final answer
        ok = 200 <= final.status < 300
        data = final.json if isinstance(final.json, dict) else {}
        if op.kind == "create":
            rows = items.get(op.title, [])
            if ok and [r[0] for r in rows] != [data.get("id")]:
                problems.add(
                    "2xx create without its one item",
                    f"{op.name()} answered id {data.get('id')}, database ids "
                    f"{[r[0] for r in rows]}; {op.history()}",
                )
            if not ok and rows:
                problems.add(
                    "create answered not saved but saved",
                    f"{op.name()}: ids {[r[0] for r in rows]}; {op.history()}",
                )
            if ok and data.get("status") != "draft":
                problems.add("2xx create whose answer is not a draft", f"{op.name()}: {data}")
            continue
        count = events[(op.item_id, op.kind)]
        if ok and count != 1:
            problems.add(
                f"2xx {op.kind} without its one history row",
                f"{op.name()} item {op.item_id}: {count} rows; {op.history()}",
            )
        if not ok and count:
            problems.add(
                f"{op.kind} answered not saved but saved",
                f"{op.name()} item {op.item_id}: {count} rows; {op.history()}",
            )
        if ok and data.get("status") != STATUS_AFTER[op.kind].value:
            problems.add(f"2xx {op.kind} answering another status", f"{op.name()}: {data}")

    # Each item's status is that of its last 2xx event (or draft).
    by_item: dict[int, ItemStatus] = {}
    for op in operations:
        if op.succeeded and op.item_id is not None:
            by_item[op.item_id] = STATUS_AFTER[op.kind]
    statuses = {item_id: status for rows in items.values() for item_id, status in rows}
    for item_id, expected in by_item.items():
        if item_id in statuses and statuses[item_id] != expected:
            problems.add(
                "item status not what its answers said",
                f"item {item_id}: {statuses[item_id].value}, answers said {expected.value}",
            )


def _check_replay(server: Server, operations: list[Operation], problems: Problems) -> int:
    """Send a 2xx create and a 2xx accept again with their keys (no more kills): the stored
    answer replayed, nothing done again (the database check sees a duplicate). Returns how many
    were sent."""
    checked = 0
    for kind in ("create", "accept"):
        op = next((o for o in operations if o.kind == kind and o.succeeded), None)
        if op is None:
            continue
        checked += 1
        first = op.final
        again = _send(server, op)
        _check_response(op, again, problems)
        if (again.status, again.json, again.replayed) != (first.status, first.json, True):
            problems.add(
                "a retry with the same key is not the first answer replayed",
                f"{op.name()}: first {first.label()} {first.body[:120]!r}, retry "
                f"{again.label()} replayed={again.replayed} {again.body[:120]!r}",
            )
    return checked


def _summary(
    burst: Burst, killer: Killer, replays_checked: int, seconds: float, server_log: Path
) -> str:
    ops = burst.operations
    attempts = [a for op in ops for a in op.answers]
    by_answer = Counter(a.label() if a.status else "no response" for a in attempts)
    kinds = Counter(op.kind for op in ops)
    tracebacks = server_log.read_text(errors="replace").count("Traceback")
    return (
        f"{len(ops)} operations ({kinds['create']} creates, {kinds['submit']} submits, "
        f"{kinds['accept']} accepts), {len(attempts)} requests in {seconds:.1f} s; "
        f"killer: {killer.kills} backends killed in {killer.rounds} rounds "
        f"({killer.busy_kills} in a transaction or statement); "
        f"answers: {dict(sorted(by_answer.items()))}; "
        f"operations retried: {sum(1 for op in ops if len(op.answers) > 1)}; "
        f"replays seen: {sum(1 for a in attempts if a.replayed)} "
        f"(and {replays_checked} same-key retries of a 2xx sent after the burst); "
        f"503s checked against the database at once: "
        f"{sum(1 for a in attempts if a.saved_then is not None)}; "
        f"tracebacks in the server log: {tracebacks}"
    )


# -- the test -------------------------------------------------------------------------------------


@contextmanager
def _server(database_url: str, log: Path) -> Iterator[Server]:
    server = start_server(database_url, log, workers=2)
    try:
        wait_ready(server)
        yield server
    finally:
        stop_server(server)


def test_answers_tell_the_truth_with_backends_killed_during_writes(
    app, database_url: str, engine_name: str, tmp_path: Path
):
    if engine_name != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's; SQLite has no backends to kill")
    section = make_section(SECTION, bureau="企画財政局", division="企画部")
    clients = [
        Client(
            n,
            token_for(make_user(Role.DEPARTMENT, section)),
            token_for(make_user(Role.SECRETARIAT)),
        )
        for n in range(1, CLIENTS + 1)
    ]
    db.session.commit()
    # The test's app holds no connection during the burst: the killer must not find it.
    db.session.remove()
    db.engine.dispose()
    conninfo = sa.make_url(database_url).set(drivername="postgresql")
    conninfo = conninfo.render_as_string(hide_password=False)
    log = tmp_path / "gunicorn.log"

    started = time.monotonic()
    problems = Problems()
    with _server(database_url, log) as server:
        probe = Probe(conninfo)
        killer = Killer(conninfo, [probe.pid])
        try:
            burst_end = time.monotonic() + BURST_SECONDS
            burst = Burst(server, probe, burst_end, burst_end + SETTLE_SECONDS)
            threads = [
                threading.Thread(target=burst.run_client, args=(c,), daemon=True) for c in clients
            ]
            killer.start()
            for t in threads:
                t.start()
            time.sleep(max(0.0, burst_end - time.monotonic()))
            killer.stop.set()
            killer.join(10)
            for t in threads:
                t.join(max(0.0, burst_end + SETTLE_SECONDS + 2 * HTTP_TIMEOUT - time.monotonic()))
        finally:
            killer.stop.set()
            probe.close()
        hung = [t.name for t in [*threads, killer] if t.is_alive()]
        harness = [*burst.errors, *([f"killer: {killer.error!r}"] if killer.error else [])]
        assert not hung, f"the harness hung: {hung}"
        assert not harness, f"the harness failed: {harness}"
        replays_checked = _check_replay(server, burst.operations, problems)
    seconds = time.monotonic() - started

    for op in burst.operations:
        _check_answers(op, problems)
    _check_database(burst.operations, problems)
    chain = verify_chain()
    if not chain.ok:
        problems.add("history chain broken", str(chain))
    summary = _summary(burst, killer, replays_checked, seconds, log)
    print(summary)

    # The kills must have caught requests mid-way, or the test proves nothing. (Not the count
    # of 503s: a server may retry a transaction lost before COMMIT itself.)
    assert killer.kills > 0, f"the killer killed nothing: {summary}"
    assert killer.busy_kills > 0, f"no kill caught a request mid-way: {summary}"
    assert replays_checked == 2, f"no 2xx create and accept to send again: {summary}"
    assert not problems, f"{summary}\n{problems.report()}"
