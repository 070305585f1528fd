"""Configuration read from the environment."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from workflow.database import DEFAULT_WAIT_SECONDS


def _secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once into the instance folder."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        _publish_new_key(path)
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable key; delete it and a new one will be made")
    return key


def _publish_new_key(path: Path) -> None:
    """Write a fresh key beside *path* (mode 0600), then hard-link it into place.

    The link either succeeds or finds a file already there, so of two workers starting together
    exactly one key wins, and no reader ever sees a half-written file.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the dialect only; we use psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgres://")
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    instance_path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance_path / 'chogi.sqlite3'}"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


def _directory() -> dict:
    """The ``LDAP_*`` settings of directory sign-in (see workflow.directory); off without a URL.

    Checked here when a URL is set, so a setting that cannot work stops the start with a message
    naming it, rather than failing every sign-in.
    """
    settings = {
        "LDAP_URL": os.environ.get("LDAP_URL", "").strip(),
        "LDAP_BASE_DN": os.environ.get("LDAP_BASE_DN", ""),
        "LDAP_USER_FILTER": os.environ.get("LDAP_USER_FILTER", "(uid={login})"),
        "LDAP_BIND_DN": os.environ.get("LDAP_BIND_DN", ""),
        "LDAP_BIND_PASSWORD": os.environ.get("LDAP_BIND_PASSWORD", ""),
        "LDAP_ROLE_GROUPS": os.environ.get("LDAP_ROLE_GROUPS", ""),
        "LDAP_SECTION_ATTRIBUTE": os.environ.get("LDAP_SECTION_ATTRIBUTE", ""),
        "LDAP_STARTTLS": _flag("LDAP_STARTTLS"),
        "LDAP_TIMEOUT": float(os.environ.get("LDAP_TIMEOUT", "5")),
        "LDAP_CA_FILE": os.environ.get("LDAP_CA_FILE", ""),
    }
    if settings["LDAP_URL"]:
        from workflow.directory import Settings

        settings["LDAP_ROLE_GROUPS"] = Settings.from_config(settings).checked().role_groups
    return settings


def load_config(instance_path: str) -> dict:
    """Build the Flask configuration for the instance folder *instance_path*."""
    path = Path(instance_path)
    https = os.environ.get("CHOGI_HTTPS", "").lower() in {"1", "true", "yes"}
    return {
        "SECRET_KEY": _secret_key(path),
        "SQLALCHEMY_DATABASE_URI": _database_url(path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the server-side session
        # Server-side sessions (see workflow.auth): idle and absolute life, in minutes.
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "60")),
        "SESSION_ABSOLUTE_MINUTES": int(os.environ.get("SESSION_ABSOLUTE_MINUTES", "720")),
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # 資料 uploads have their own limit, in MB (workflow.files): the JSON limit above stays.
        "ATTACHMENT_MAX_MB": float(os.environ.get("ATTACHMENT_MAX_MB", "50")),
        # How long a request waits for a lock or a statement before answering 503 database_busy
        # (workflow.database); below gunicorn's worker timeout (gunicorn.conf.py).
        "DATABASE_WAIT_SECONDS": float(
            os.environ.get("DATABASE_WAIT_SECONDS", DEFAULT_WAIT_SECONDS)
        ),
        # Reverse proxies in front of the app that set X-Forwarded-For (see workflow.security).
        "TRUSTED_PROXIES": int(os.environ.get("CHOGI_TRUSTED_PROXIES", "0")),
        # Sign-in limits (see workflow.sign_in_limits): failures allowed in the window from a
        # browser without a device cookie per login ID and address, per login ID from every
        # address, and per address over every login ID; from a browser with one, per device.
        "LOGIN_FAILURES_PER_ACCOUNT": int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5")),
        "LOGIN_FAILURES_PER_ACCOUNT_UNTRUSTED": int(
            os.environ.get("LOGIN_FAILURES_PER_ACCOUNT_UNTRUSTED", "10")
        ),
        "LOGIN_FAILURES_PER_ADDRESS": int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "20")),
        "LOGIN_FAILURES_PER_DEVICE": int(os.environ.get("LOGIN_FAILURES_PER_DEVICE", "5")),
        "LOGIN_WINDOW_MINUTES": int(os.environ.get("LOGIN_WINDOW_MINUTES", "15")),
        # How long a device cookie (a browser that signed in before) is trusted, in days.
        "DEVICE_COOKIE_DAYS": int(os.environ.get("DEVICE_COOKIE_DAYS", "365")),
        # How long a new API token works unless its issuer says otherwise (issue 18), in days.
        "API_TOKEN_DAYS": int(os.environ.get("API_TOKEN_DAYS", "365")),
        # What `flask prune` keeps (see workflow.maintenance), in days: the sign-in log, cached
        # PDFs since a download last read them, and sign-in sessions since they ended.
        "LOGIN_ATTEMPTS_RETENTION_DAYS": int(os.environ.get("LOGIN_ATTEMPTS_RETENTION_DAYS", "90")),
        "PDF_CACHE_RETENTION_DAYS": int(os.environ.get("PDF_CACHE_RETENTION_DAYS", "30")),
        "SESSION_RETENTION_DAYS": int(os.environ.get("SESSION_RETENTION_DAYS", "30")),
        # `flask worker` (see workflow.jobs): how often an idle worker looks for due jobs; how
        # often a failing job is tried (retried after JOB_RETRY_SECONDS, then twice as long each
        # time); after how long a job left running by a worker that died is taken again (longer
        # than any job runs: a conversion's CONVERT_TIMEOUT_SECONDS and more).
        "WORKER_POLL_SECONDS": float(os.environ.get("WORKER_POLL_SECONDS", "1")),
        "JOB_MAX_ATTEMPTS": int(os.environ.get("JOB_MAX_ATTEMPTS", "5")),
        "JOB_RETRY_SECONDS": float(os.environ.get("JOB_RETRY_SECONDS", "30")),
        "JOB_STALE_SECONDS": float(os.environ.get("JOB_STALE_SECONDS", "600")),
        # Office → PDF with LibreOffice (see workflow.convert): the soffice program (a path, or a
        # name looked up on PATH), and the time and address space one conversion may take.
        "SOFFICE": os.environ.get("SOFFICE", "soffice"),
        "CONVERT_TIMEOUT_SECONDS": float(os.environ.get("CONVERT_TIMEOUT_SECONDS", "60")),
        "CONVERT_MEMORY_MB": int(os.environ.get("CONVERT_MEMORY_MB", "1024")),
        # Directory sign-in (LDAP / Active Directory), off without LDAP_URL.
        **_directory(),
        # Notices by e-mail (issue 19), off without MAIL_SERVER: notices stay in the app only.
        # MAIL_CHARSET is utf-8 or iso-2022-jp (JIS, for mail readers that need it).
        # PUBLIC_BASE_URL begins the links in mail ("https://chogi.example.city.jp").
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "") == "1",
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "chogi@localhost"),
        "MAIL_CHARSET": os.environ.get("MAIL_CHARSET", "utf-8").lower(),
        "MAIL_TIMEOUT_SECONDS": float(os.environ.get("MAIL_TIMEOUT_SECONDS", "30")),
        # How often a notice's mail is tried before it is given up (the worker's backoff,
        # JOB_RETRY_SECONDS doubling up to an hour: 12 tries span about 5 hours).
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS", "12")),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
    }
