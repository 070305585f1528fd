"""Directory sign-in (LDAP / Active Directory): who is this login, and what may they do here.

Off unless ``LDAP_URL`` is set; ``ldap3`` is imported only when a sign-in reaches the directory,
so an installation without one pays nothing. One sign-in is three steps:

1. the service account (``LDAP_BIND_DN``, or an anonymous bind) searches ``LDAP_BASE_DN`` with
   ``LDAP_USER_FILTER``, the login escaped, for exactly one entry;
2. a second connection binds as that entry's DN with the password typed: the directory, not
   chogi, checks it (an empty password is refused before any of this, since LDAP treats a bind
   with a DN and no password as an anonymous "unauthenticated" bind that succeeds);
3. the service account reads the entry's groups (``memberOf`` on the entry, as Active Directory
   and OpenLDAP's memberof overlay give it, and groups whose ``member`` / ``uniqueMember`` names
   the entry), and ``LDAP_ROLE_GROUPS`` turns the first mapped one into a role.

A server that cannot be reached, refuses TLS, or refuses the service account raises
:class:`DirectoryUnavailable`; the sign-in page shows its message instead of a wrong-password one.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workflow.schemas.limits import EMAIL_MAX, NAME_MAX
from workflow.states.states import Role

log = logging.getLogger("workflow.directory")

# Attributes read from the user's entry (the section attribute is added per configuration).
_NAME_ATTRIBUTES = ("displayName", "cn")
_MAIL_ATTRIBUTE = "mail"
_GROUPS_ATTRIBUTE = "memberOf"
# An unescaped separator: RFC 4514 writes a comma or semicolon inside a value as "\," or "\;".
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_ROLE_GROUP_SEPARATOR = re.compile(r"(?<!\\);|\n")


class DirectoryUnavailable(Exception):  # noqa: N818 — named for what the sign-in page says
    """The directory cannot answer now: no connection, no TLS, or the service account refused."""

    message = "ディレクトリサーバーに接続できません。しばらくしてからお試しください。"


@dataclass(frozen=True)
class DirectoryEntry:
    """What the directory says about a user who has just proved their password."""

    dn: str
    login: str
    display_name: str
    email: str | None
    role: Role | None
    section_name: str | None
    groups: frozenset[str]


@dataclass(frozen=True)
class Settings:
    """The ``LDAP_*`` configuration, parsed once per sign-in."""

    url: str
    base_dn: str
    user_filter: str
    bind_dn: str
    bind_password: str
    role_groups: tuple[tuple[str, Role], ...]  # (normalised group DN, role), first match wins
    section_attribute: str
    starttls: bool
    timeout: float
    ca_file: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        groups = config.get("LDAP_ROLE_GROUPS") or ()
        return cls(
            url=config["LDAP_URL"],
            base_dn=config.get("LDAP_BASE_DN", ""),
            user_filter=config.get("LDAP_USER_FILTER") or "(uid={login})",
            bind_dn=config.get("LDAP_BIND_DN", ""),
            bind_password=config.get("LDAP_BIND_PASSWORD", ""),
            role_groups=parse_role_groups(groups) if isinstance(groups, str) else tuple(groups),
            section_attribute=config.get("LDAP_SECTION_ATTRIBUTE", ""),
            starttls=bool(config.get("LDAP_STARTTLS", False)),
            timeout=float(config.get("LDAP_TIMEOUT", 5)),
            ca_file=config.get("LDAP_CA_FILE", ""),
        )

    def checked(self) -> Settings:
        """These settings, or ValueError naming the first that cannot work."""
        parse_url(self.url)
        if not self.base_dn.strip():
            raise ValueError("LDAP_BASE_DN is empty: where should users be searched?")
        if "{login}" not in self.user_filter:
            raise ValueError(f"LDAP_USER_FILTER {self.user_filter!r} has no {{login}}")
        if not self.role_groups:
            raise ValueError("LDAP_ROLE_GROUPS is empty: no directory user would have a role")
        if self.ca_file and not Path(self.ca_file).is_file():
            raise ValueError(f"LDAP_CA_FILE {self.ca_file!r} is not a file")
        if self.timeout <= 0:
            raise ValueError("LDAP_TIMEOUT must be more than 0 seconds")
        return self


def enabled(config: Mapping[str, Any]) -> bool:
    """Whether sign-in consults a directory at all (``LDAP_URL`` set)."""
    return bool(config.get("LDAP_URL"))


def normalise_dn(dn: str) -> str:
    """*dn* compared the way a directory does for our purposes: case and spaces around , and = ignored."""
    parts = []
    for rdn in _UNESCAPED_COMMA.split(dn.strip()):
        attribute, _, value = rdn.partition("=")
        parts.append(f"{attribute.strip()}={value.strip()}")
    return ",".join(parts).lower()


def parse_url(url: str) -> tuple[str, int | None, bool]:
    """``LDAP_URL`` as (host, port or None for the default, LDAPS?); ValueError if not LDAP.

    ldap3 reads a URL with a trailing ``/`` (``ldap://dc:389/``) as a bad port, so it gets the
    parts instead.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("ldap", "ldaps") or not parts.hostname:
        raise ValueError(f"LDAP_URL: {url!r} is not ldap://host[:port] or ldaps://host[:port]")
    return parts.hostname, parts.port, parts.scheme.lower() == "ldaps"


def parse_role_groups(text: str) -> tuple[tuple[str, Role], ...]:
    """``LDAP_ROLE_GROUPS``: ``role:group DN`` pairs separated by ``;`` or newlines.

    ``secretariat:cn=chogi-secretariat,ou=groups,dc=example,dc=jp;department:cn=…`` — a role
    may appear more than once; a user in several mapped groups gets the first one listed.
    Raises ValueError naming a misspelt role or a pair without a DN.
    """
    pairs = []
    for raw in _ROLE_GROUP_SEPARATOR.split(text):
        pair = raw.strip()
        if not pair:
            continue
        role_name, colon, dn = pair.partition(":")
        if not colon or not dn.strip():
            raise ValueError(f"LDAP_ROLE_GROUPS: {pair!r} is not 'role:group DN'")
        try:
            role = Role(role_name.strip())
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(
                f"LDAP_ROLE_GROUPS: unknown role {role_name.strip()!r} (one of {known})"
            ) from None
        pairs.append((normalise_dn(dn), role))
    return tuple(pairs)


def authenticate(settings: Settings, login: str, password: str) -> DirectoryEntry | None:
    """The directory's entry for *login* if *password* binds as it, else None.

    Raises :class:`DirectoryUnavailable` when the directory cannot be asked.
    """
    if not login or not password:
        return None
    from ldap3.core.exceptions import LDAPException

    try:
        return _authenticate(settings, login, password)
    except (LDAPException, OSError) as exc:
        log.error("directory %s unavailable: %s: %s", settings.url, type(exc).__name__, exc)
        raise DirectoryUnavailable(str(exc)) from exc


def _authenticate(settings: Settings, login: str, password: str) -> DirectoryEntry | None:
    from ldap3.utils.conv import escape_filter_chars

    service = _connect(settings, settings.bind_dn, settings.bind_password)
    try:
        if not service.bind():
            log.error(
                "directory %s refused the service account %r: %s",
                settings.url,
                settings.bind_dn or "(anonymous)",
                service.result.get("description"),
            )
            raise DirectoryUnavailable("service bind refused")
        entry = _find_user(service, settings, escape_filter_chars(login))
        if entry is None:
            return None
        if not _password_binds(settings, entry.entry_dn, password):
            return None
        groups = _groups(service, settings, entry)
    finally:
        _close(service)
    return DirectoryEntry(
        dn=entry.entry_dn,
        login=login.strip().lower(),
        display_name=(_first(entry, *_NAME_ATTRIBUTES) or login)[:NAME_MAX],
        email=_email(entry),
        role=_role(settings, groups),
        section_name=_first(entry, settings.section_attribute)
        if settings.section_attribute
        else None,
        groups=groups,
    )


def _connect(settings: Settings, user: str, password: str):
    """An open connection (StartTLS done if asked), not yet bound; errors raise LDAPException."""
    from ldap3 import Connection, Server, Tls

    host, port, ldaps = parse_url(settings.url)
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file or None, sni=host)
    server = Server(
        host,
        port=port,
        use_ssl=ldaps,
        tls=tls,
        connect_timeout=settings.timeout,
        get_info="NO_INFO",
    )
    connection = Connection(
        server,
        user=user or None,
        password=password or None,
        # An int: ldap3 packs it into SO_RCVTIMEO as whole seconds.
        receive_timeout=max(1, math.ceil(settings.timeout)),
        auto_referrals=False,  # Active Directory refers a search at the domain root elsewhere
        raise_exceptions=False,
        read_only=True,
    )
    try:
        connection.open()
        if settings.starttls and not ldaps and not connection.start_tls():
            from ldap3.core.exceptions import LDAPStartTLSError

            raise LDAPStartTLSError(f"StartTLS refused: {connection.result.get('description')}")
    except BaseException:
        _close(connection)
        raise
    return connection


def _close(connection) -> None:
    """Unbind and close, even a connection that never opened (ldap3 keeps its failed socket)."""
    with contextlib.suppress(Exception):
        connection.unbind()
    if connection.socket is not None:
        connection.socket.close()


def _find_user(service, settings: Settings, escaped_login: str):
    """The one entry the filter finds for the login, or None (none, or more than one)."""
    from ldap3 import SUBTREE

    attributes = [*_NAME_ATTRIBUTES, _MAIL_ATTRIBUTE, _GROUPS_ATTRIBUTE]
    if settings.section_attribute:
        attributes.append(settings.section_attribute)
    search_filter = settings.user_filter.replace("{login}", escaped_login)
    service.search(settings.base_dn, search_filter, SUBTREE, attributes=attributes, size_limit=2)
    if service.result.get("result") not in (0, 4):  # success, or sizeLimitExceeded (two found)
        log.warning(
            "directory search %s under %r: %s",
            search_filter,
            settings.base_dn,
            service.result.get("description"),
        )
    found = [e for e in service.entries if e.entry_dn]
    if len(found) > 1:
        log.warning("directory: %s matches more than one entry; refused", search_filter)
        return None
    return found[0] if found else None


def _password_binds(settings: Settings, dn: str, password: str) -> bool:
    """Whether *password* binds as *dn* (invalid credentials: False; no server: LDAPException)."""
    connection = _connect(settings, dn, password)
    try:
        if connection.bind():
            return True
        if connection.result.get("result") != 49:  # anything but invalidCredentials
            log.warning("directory bind as %s failed: %s", dn, connection.result.get("description"))
        return False
    finally:
        _close(connection)


def _groups(service, settings: Settings, entry) -> frozenset[str]:
    """Normalised DNs of the groups *entry* belongs to: its memberOf, and groups naming it."""
    from ldap3 import SUBTREE
    from ldap3.utils.conv import escape_filter_chars

    groups = {normalise_dn(dn) for dn in _values(entry, _GROUPS_ATTRIBUTE)}
    dn = escape_filter_chars(entry.entry_dn)
    service.search(
        settings.base_dn,
        f"(|(member={dn})(uniqueMember={dn}))",
        SUBTREE,
        attributes=[],
    )
    groups.update(normalise_dn(group.entry_dn) for group in service.entries)
    return frozenset(groups)


def _role(settings: Settings, groups: frozenset[str]) -> Role | None:
    for group, role in settings.role_groups:
        if group in groups:
            return role
    return None


def _email(entry) -> str | None:
    """``mail``, if it can be an address at all (a longer one is a directory's mistake)."""
    mail = _first(entry, _MAIL_ATTRIBUTE)
    return mail if mail and len(mail) <= EMAIL_MAX and "@" in mail else None


def _values(entry, attribute: str) -> list[str]:
    if attribute not in entry.entry_attributes:
        return []
    return [str(v) for v in entry[attribute].values if str(v).strip()]


def _first(entry, *attributes: str) -> str | None:
    """The first non-blank value of the first of *attributes* the entry has."""
    for attribute in attributes:
        if values := _values(entry, attribute):
            return values[0].strip()
    return None
