"""Directory sign-in against a real OpenLDAP server (Debian's slapd, installed by scripts/setup.sh).

One slapd per test run, in a temporary directory on free loopback ports (plain LDAP with StartTLS,
and LDAPS, with a self-signed certificate), loaded from tests/data/directory.ldif by slapadd.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD, make_section, make_user
from tests.support import make_app
from workflow import credentials, directory
from workflow.audit import verify_chain
from workflow.config import load_config
from workflow.extensions import db
from workflow.models import HistoryEvent, LoginAttempt, Section, User
from workflow.models._types import utcnow
from workflow.services import admin
from workflow.states.states import Role

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
LDIF = Path(__file__).parent / "data" / "directory.ldif"
SCHEMAS = Path("/etc/ldap/schema")
SUFFIX = "dc=example,dc=jp"
DIRECTORY_PASSWORD = "directory-pass"  # every person's in directory.ldif
SERVICE_DN = f"cn=chogi-search,ou=services,{SUFFIX}"
ROLE_GROUPS = (
    f"secretariat:cn=chogi-secretariat,ou=groups,{SUFFIX};"
    f"department:cn=chogi-department,ou=groups,{SUFFIX}\n"
    "admin:cn=chogi-admins,ou=groups,dc=example,dc=jp"
)
BAD_CREDENTIALS = "ログインIDまたはパスワードが正しくありません。"
UNAVAILABLE = "ディレクトリサーバーに接続できません。しばらくしてからお試しください。"


@dataclass
class Slapd:
    url: str  # ldap:// (StartTLS offered)
    ldaps_url: str
    ca_file: str  # the self-signed certificate it serves


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _slapd_conf(folder: Path, tls: Path | None) -> Path:
    """A slapd.conf: mdb database under *folder*; people read by signed-in users only."""
    (folder / "data").mkdir()
    lines = [f"include {SCHEMAS / name}.schema" for name in ("core", "cosine", "inetorgperson")]
    lines += [f"pidfile {folder / 'slapd.pid'}", "modulepath /usr/lib/ldap"]
    lines += ["moduleload back_mdb", "moduleload memberof"]  # memberof: the memberOf attribute
    if tls:
        lines += [
            f"TLSCertificateFile {tls / 'cert.pem'}",
            f"TLSCertificateKeyFile {tls / 'key.pem'}",
        ]
    lines += [
        "database mdb",
        "maxsize 10485760",
        f'suffix "{SUFFIX}"',
        f'rootdn "cn=admin,{SUFFIX}"',
        "rootpw not-used-by-the-tests",
        f"directory {folder / 'data'}",
        "overlay memberof",
        "access to attrs=userPassword by anonymous auth by * none",
        "access to * by users read by * none",  # anonymous searches find nothing
    ]
    conf = folder / "slapd.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def _self_signed(folder: Path) -> Path:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "2", "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
        + ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True,
        capture_output=True,
    )
    return folder


def _start_slapd(folder: Path, urls: list[str], tls: Path | None) -> subprocess.Popen:
    """slapadd the LDIF, start slapd in the foreground on *urls*, wait until the first answers."""
    if not (SLAPD.exists() and SLAPADD.exists()):
        pytest.fail(
            f"{SLAPD} not found: the directory tests need OpenLDAP's server; "
            "run scripts/setup.sh (it installs Debian's slapd and ldap-utils)"
        )
    conf = _slapd_conf(folder, tls)
    subprocess.run([SLAPADD, "-q", "-f", conf, "-l", LDIF], check=True, capture_output=True)
    with (folder / "slapd.log").open("wb") as log:  # slapd keeps its own descriptor
        process = subprocess.Popen(
            [SLAPD, "-h", " ".join(urls), "-f", conf, "-d", "0"], stdout=log, stderr=log
        )
    port = int(urls[0].rsplit(":", 1)[1].strip("/"))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"slapd exited: {(folder / 'slapd.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.02)
    process.kill()
    pytest.fail(f"slapd did not answer on {urls[0]} within 5 s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    folder = tmp_path_factory.mktemp("slapd")
    tls = _self_signed(folder)
    url, ldaps_url = f"ldap://127.0.0.1:{_free_port()}/", f"ldaps://127.0.0.1:{_free_port()}/"
    process = _start_slapd(folder, [url, ldaps_url], tls)
    yield Slapd(url=url, ldaps_url=ldaps_url, ca_file=str(tls / "cert.pem"))
    _stop(process)


@pytest.fixture
def plain_slapd(tmp_path: Path) -> Iterator[str]:
    """A second server that offers no TLS at all (for StartTLS refused)."""
    url = f"ldap://127.0.0.1:{_free_port()}/"
    process = _start_slapd(tmp_path, [url], None)
    yield url
    _stop(process)


def directory_config(slapd: Slapd) -> dict:
    return {
        "LDAP_URL": slapd.url,
        "LDAP_BASE_DN": SUFFIX,
        "LDAP_USER_FILTER": "(&(objectClass=inetOrgPerson)(uid={login}))",
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": "search-pass",
        "LDAP_ROLE_GROUPS": ROLE_GROUPS,
        "LDAP_SECTION_ATTRIBUTE": "departmentNumber",
        "LDAP_STARTTLS": False,
        "LDAP_TIMEOUT": 2.0,
        "LDAP_CA_FILE": "",
    }


@pytest.fixture
def ldap_app(app: Flask, slapd: Slapd) -> Flask:
    """The test app signing in against the test slapd, with the sections it names."""
    app.config.update(directory_config(slapd))
    make_section("総務課")
    make_section("企画課")
    db.session.commit()
    return app


def sign_in(client: FlaskClient, login: str, password: str = DIRECTORY_PASSWORD):
    return client.post("/login", data={"login": login, "password": password})


def user_named(login: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.login == login))


def section_named(name: str) -> Section:
    return db.session.scalar(sa.select(Section).where(Section.name == name))


def sync_rows() -> list[HistoryEvent]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(HistoryEvent)
        .where(HistoryEvent.event == "admin.user.directory_sync")
        .order_by(HistoryEvent.id)
    ).all()


def refused(response) -> bool:
    """The sign-in page again, saying the login or the password is wrong."""
    return response.status_code == 200 and BAD_CREDENTIALS in response.get_data(as_text=True)


def unavailable(response) -> bool:
    """The sign-in page again, 503, saying the directory cannot be reached (and nothing else)."""
    html = response.get_data(as_text=True)
    return response.status_code == 503 and UNAVAILABLE in html and BAD_CREDENTIALS not in html


# -- signing in ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "role", "section", "name", "email"),
    [
        ("suzuki", Role.DEPARTMENT, "総務課", "鈴木 花子（総務課）", "suzuki@example.jp"),
        ("sato", Role.SECRETARIAT, "企画課", "佐藤 次郎", "sato@example.jp"),  # uniqueMember, cn
        ("takahashi", Role.ADMIN, None, "高橋 三郎", None),  # memberOf only, in capitals
    ],
)
def test_a_directory_user_signs_in_on_the_sign_in_page_with_role_and_section_from_the_directory(
    ldap_app, client, login, role, section, name, email
):
    response = sign_in(client, login)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/").status_code == 200
    user = user_named(login)
    assert (user.role, user.display_name, user.email, user.directory) == (role, name, email, True)
    assert (user.section.name if user.section else None) == section
    assert not user.check_password(DIRECTORY_PASSWORD)  # no local password: only a bind
    [row] = sync_rows()
    assert row.params["subject"] == {"type": "user", "id": user.id, "name": login}
    assert row.params["after"]["role"] == role.value
    assert row.actor_id is None


def test_the_next_sign_in_updates_what_changed_in_the_directory_and_only_then_writes_a_row(
    ldap_app, client
):
    assert sign_in(client, "suzuki").status_code == 302
    client.post("/logout")
    user = user_named("suzuki")
    user.role, user.display_name = Role.VIEWER, "古い名前"
    db.session.commit()

    assert sign_in(client, "suzuki").status_code == 302
    client.post("/logout")
    user = user_named("suzuki")
    assert (user.role, user.display_name) == (Role.DEPARTMENT, "鈴木 花子（総務課）")
    first, second = sync_rows()
    assert second.params["before"] == {"role": "viewer", "display_name": "古い名前"}
    assert second.params["after"] == {"role": "department", "display_name": "鈴木 花子（総務課）"}
    assert verify_chain().ok  # `flask audit verify` checks them with every other history row

    assert sign_in(client, "suzuki").status_code == 302
    assert len(sync_rows()) == 2  # nothing changed, nothing written


def test_a_login_typed_in_capitals_is_the_same_directory_account(ldap_app, client):
    assert sign_in(client, "suzuki").status_code == 302
    client.post("/logout")
    assert sign_in(client, "Suzuki").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_two_first_sign_ins_at_once_make_one_user(ldap_app, client, monkeypatch):
    """The other sign-in inserted the user between this one's look-up and its insert."""
    make_user(
        Role.DEPARTMENT,
        section_named("総務課"),
        login="suzuki",
        directory=True,
        display_name="鈴木 花子（総務課）",
        email="suzuki@example.jp",
    )
    db.session.commit()
    real, missed = credentials._by_login, []

    def not_yet(login: str):
        if len(missed) < 2:  # verify's look-up and the sync's: before the other one committed
            missed.append(login)
            return None
        return real(login)

    monkeypatch.setattr(credentials, "_by_login", not_yet)
    assert sign_in(client, "suzuki").status_code == 302
    assert missed == ["suzuki", "suzuki"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert sync_rows() == []  # the other sign-in wrote what there was to write


# -- refused ------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["wrong-password", "directory-pas", " ", ""])
def test_a_wrong_password_is_refused_and_nothing_is_created(ldap_app, client, password):
    response = sign_in(client, "suzuki", password)
    assert response.status_code == 200  # the form again, with an error under the password
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert user_named("suzuki") is None


def test_an_empty_password_never_reaches_the_directory(ldap_app, monkeypatch):
    """LDAP answers a bind with a DN and no password as anonymous, successfully: never send one."""
    monkeypatch.setattr(directory, "_authenticate", pytest.fail)
    assert credentials.verify("suzuki", "") is None


def test_a_user_disabled_here_cannot_sign_in_through_the_directory(ldap_app, client, caplog):
    make_user(
        Role.DEPARTMENT, section_named("総務課"), login="suzuki", directory=True, active=False
    )
    db.session.commit()
    with caplog.at_level(logging.WARNING, "workflow.credentials"):
        assert refused(sign_in(client, "suzuki"))
    assert "disabled" in caplog.text
    assert user_named("suzuki").active is False
    assert sync_rows() == []


def test_a_local_account_keeps_its_local_password_and_not_the_directorys(ldap_app, client):
    make_user(Role.VIEWER, login="tanaka")
    db.session.commit()
    assert refused(sign_in(client, "tanaka", DIRECTORY_PASSWORD))
    assert sign_in(client, "tanaka", PASSWORD).status_code == 302
    user = user_named("tanaka")
    assert (user.directory, user.role) == (False, Role.VIEWER)


def test_an_account_made_without_a_local_password_signs_in_through_the_directory(ldap_app, client):
    """The April reshuffle creates users without a password: the directory signs them in."""
    admin.create_user(
        None,
        "cli",
        login="suzuki",
        display_name="鈴木",
        role=Role.DEPARTMENT,
        section=section_named("総務課"),
    )
    db.session.commit()
    assert sign_in(client, "suzuki").status_code == 302
    user = user_named("suzuki")
    assert (user.directory, user.has_password) == (True, False)
    [row] = sync_rows()
    assert row.params["before"]["directory"] is False
    assert row.params["after"]["directory"] is True


def test_an_account_without_a_local_password_is_refused_when_the_directory_is_off(app, client):
    admin.create_user(None, "cli", login="suzuki", display_name="鈴木", role=Role.VIEWER)
    db.session.commit()
    for password in ("!", DIRECTORY_PASSWORD):
        assert refused(sign_in(client, "suzuki", password))


def test_a_local_account_cannot_be_taken_over_by_the_directory_entry_of_another_spelling(
    ldap_app, client
):
    make_user(Role.VIEWER, login="tanaka")
    db.session.commit()
    assert refused(sign_in(client, "TANAKA"))
    assert user_named("tanaka").directory is False


def test_a_directory_user_in_no_mapped_group_is_refused_with_a_log_line(ldap_app, client, caplog):
    with caplog.at_level(logging.WARNING, "workflow.credentials"):
        assert refused(sign_in(client, "yamada"))
    assert "'yamada'" in caplog.text
    assert "LDAP_ROLE_GROUPS" in caplog.text
    assert user_named("yamada") is None


def test_a_department_user_whose_section_is_unknown_here_is_refused(ldap_app, client, caplog):
    with caplog.at_level(logging.WARNING, "workflow.credentials"):
        assert refused(sign_in(client, "ito"))
    assert "'存在しない課' is unknown" in caplog.text
    assert user_named("ito") is None


def test_a_department_user_whose_section_is_retired_is_refused(ldap_app, client, caplog):
    section_named("総務課").retired_at = utcnow()
    db.session.commit()
    with caplog.at_level(logging.WARNING, "workflow.credentials"):
        assert refused(sign_in(client, "suzuki"))
    assert "'総務課' is retired" in caplog.text


@pytest.mark.parametrize("login", ["*)(uid=*", "*", "suz*", "suzuki)(objectClass=*"])
def test_ldap_filter_characters_in_the_login_find_no_one(ldap_app, client, login):
    response = sign_in(client, login)
    assert refused(response)
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# -- the directory cannot answer ----------------------------------------------------------------


def test_directory_down_says_so_in_japanese_not_500_and_local_accounts_still_sign_in(
    ldap_app, client, caplog
):
    make_user(Role.VIEWER, login="local")
    db.session.commit()
    ldap_app.config["LDAP_URL"] = f"ldap://127.0.0.1:{_free_port()}/"  # nobody listens
    with caplog.at_level(logging.ERROR, "workflow.directory"):
        response = sign_in(client, "suzuki")
    assert response.status_code == 503
    assert unavailable(response)
    assert BAD_CREDENTIALS not in response.get_data(as_text=True)
    assert "unavailable" in caplog.text
    assert user_named("suzuki") is None
    [attempt] = db.session.scalars(sa.select(LoginAttempt)).all()
    assert (attempt.success, attempt.refused) == (False, True)  # no password was checked
    assert sign_in(client, "local", PASSWORD).status_code == 302


def test_a_directory_that_never_answers_is_given_up_after_ldap_timeout(ldap_app, client):
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        ldap_app.config.update(LDAP_URL=f"ldap://127.0.0.1:{port}", LDAP_TIMEOUT=1)
        started = time.monotonic()
        response = sign_in(client, "suzuki")
        took = time.monotonic() - started
    assert unavailable(response)
    assert took < 3


def test_a_refused_service_account_is_the_directory_unavailable_not_a_wrong_password(
    ldap_app, client
):
    ldap_app.config["LDAP_BIND_PASSWORD"] = "not-the-service-password"
    assert unavailable(sign_in(client, "suzuki"))


def test_an_anonymous_search_finds_no_one_where_the_directory_hides_people(ldap_app, client):
    ldap_app.config.update(LDAP_BIND_DN="", LDAP_BIND_PASSWORD="")
    assert refused(sign_in(client, "suzuki"))


def test_starttls_to_a_server_without_tls_is_unavailable(ldap_app, client, plain_slapd):
    ldap_app.config.update(LDAP_URL=plain_slapd, LDAP_STARTTLS=True)
    assert unavailable(sign_in(client, "suzuki"))


@pytest.mark.parametrize("how", ["starttls", "ldaps"])
def test_tls_with_a_certificate_not_trusted_is_unavailable(ldap_app, client, slapd, how):
    if how == "ldaps":
        ldap_app.config.update(LDAP_URL=slapd.ldaps_url)
    else:
        ldap_app.config.update(LDAP_STARTTLS=True)
    assert unavailable(sign_in(client, "suzuki"))  # self-signed, and LDAP_CA_FILE not set


@pytest.mark.parametrize("how", ["starttls", "ldaps", "ldaps and starttls"])
def test_tls_with_the_servers_ca_signs_in(ldap_app, client, slapd, how):
    ldap_app.config.update(LDAP_STARTTLS="starttls" in how, LDAP_CA_FILE=slapd.ca_file)
    if "ldaps" in how:  # StartTLS on LDAPS: already encrypted, nothing to start
        ldap_app.config.update(LDAP_URL=slapd.ldaps_url)
    assert sign_in(client, "suzuki").status_code == 302


# -- without LDAP_URL ---------------------------------------------------------------------------


def test_without_ldap_url_the_directory_is_never_asked_nor_ldap3_imported(app, monkeypatch):
    make_user(Role.DEPARTMENT, make_section("総務課"), login="suzuki", directory=True)
    make_user(Role.VIEWER, login="local")
    db.session.commit()
    for name in [n for n in sys.modules if n.split(".")[0] == "ldap3"] + ["ldap3"]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it now raises ImportError
    monkeypatch.setattr(directory, "authenticate", pytest.fail)
    for name in [n for n in os.environ if n.startswith("LDAP_")]:
        monkeypatch.delenv(name)
    started = make_app(app.config["SQLALCHEMY_DATABASE_URI"])  # from the environment, as in use
    with started.app_context():
        client = started.test_client()
        assert refused(sign_in(client, "suzuki", DIRECTORY_PASSWORD))
        assert refused(sign_in(client, "nobody", DIRECTORY_PASSWORD))
        assert sign_in(client, "local", PASSWORD).status_code == 302
        db.session.remove()
        db.engine.dispose()


# -- flask directory check ---------------------------------------------------------------------


def check(app: Flask, login: str, password: str = DIRECTORY_PASSWORD):
    db.session.rollback()  # no transaction held while the command runs
    result = app.test_cli_runner().invoke(args=["directory", "check", login], input=password + "\n")
    db.session.expire_all()
    return result


def test_directory_check_shows_what_a_sign_in_would_find_and_writes_nothing(ldap_app):
    result = check(ldap_app, "suzuki")
    assert result.exit_code == 0, result.output
    assert "エントリ: uid=suzuki,ou=people,dc=example,dc=jp" in result.output
    assert (
        "グループ: cn=chogi-department,ou=groups,dc=example,dc=jp（LDAP_ROLE_GROUPS にあり）"
        in (result.output)
    )
    assert "役割: 所管課職員（department）" in result.output
    assert "課: 総務課\n" in result.output
    assert result.output.endswith("サインインできます。\n")
    assert user_named("suzuki") is None


@pytest.mark.parametrize(
    ("login", "password", "says"),
    [
        ("yamada", DIRECTORY_PASSWORD, "LDAP_ROLE_GROUPS のどのグループにも属していません"),
        ("ito", DIRECTORY_PASSWORD, "課「存在しない課」は登録されていません"),
        ("suzuki", "wrong-password", "パスワードが正しくありません"),
        ("nobody", DIRECTORY_PASSWORD, "LDAP_USER_FILTER"),
    ],
)
def test_directory_check_says_why_a_sign_in_would_be_refused(ldap_app, login, password, says):
    result = check(ldap_app, login, password)
    assert result.exit_code == 1
    assert says in result.output


def test_directory_check_without_ldap_url_or_directory(ldap_app):
    ldap_app.config["LDAP_URL"] = f"ldap://127.0.0.1:{_free_port()}/"
    assert UNAVAILABLE in check(ldap_app, "suzuki").output
    ldap_app.config["LDAP_URL"] = ""
    assert "LDAP_URL が設定されていません" in check(ldap_app, "suzuki").output


# -- configuration ------------------------------------------------------------------------------


def test_role_groups_are_read_from_one_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("LDAP_URL", "ldaps://dc.example.jp")
    monkeypatch.setenv("LDAP_BASE_DN", "DC=example,DC=jp")
    monkeypatch.setenv(
        "LDAP_ROLE_GROUPS",
        "admin:CN=Chogi Admins,OU=Groups,DC=example,DC=jp; "
        "department:cn=課員\\;全員,ou=groups,dc=example,dc=jp",
    )
    monkeypatch.setenv("LDAP_STARTTLS", "1")
    config = load_config(str(tmp_path))
    assert config["LDAP_ROLE_GROUPS"] == (
        ("cn=chogi admins,ou=groups,dc=example,dc=jp", Role.ADMIN),
        ("cn=課員\\;全員,ou=groups,dc=example,dc=jp", Role.DEPARTMENT),
    )
    assert config["LDAP_STARTTLS"] is True
    assert config["LDAP_TIMEOUT"] == 5


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("LDAP_ROLE_GROUPS", "secretary:cn=x,dc=example,dc=jp", "unknown role 'secretary'"),
        ("LDAP_ROLE_GROUPS", "cn=x,dc=example,dc=jp", "is not 'role:group DN'"),
        ("LDAP_ROLE_GROUPS", "admin:", "is not 'role:group DN'"),
        ("LDAP_ROLE_GROUPS", "", "LDAP_ROLE_GROUPS is empty"),
        ("LDAP_URL", "http://dc.example.jp", "is not ldap://host"),
        ("LDAP_BASE_DN", " ", "LDAP_BASE_DN is empty"),
        ("LDAP_USER_FILTER", "(uid=tanaka)", "has no {login}"),
        ("LDAP_CA_FILE", "/nonexistent/ca.pem", "is not a file"),
        ("LDAP_TIMEOUT", "0", "more than 0"),
    ],
)
def test_a_setting_that_cannot_work_stops_the_start(tmp_path, monkeypatch, name, value, problem):
    monkeypatch.setenv("LDAP_URL", "ldap://127.0.0.1/")
    monkeypatch.setenv("LDAP_BASE_DN", SUFFIX)
    monkeypatch.setenv("LDAP_ROLE_GROUPS", ROLE_GROUPS)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=re.escape(problem)):
        load_config(str(tmp_path))
