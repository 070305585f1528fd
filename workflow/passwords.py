"""The password policy: at least 12 characters, and not one of the well-known common passwords.

Used wherever a password is set (``flask user create``, and any future change-password page).
"""

from __future__ import annotations

import gzip
import unicodedata
from functools import cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 256  # the sign-in form takes no more
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"


def normalize(password: str) -> str:
    """Compare as people type: full-width and half-width alike, case ignored, no outer spaces."""
    return unicodedata.normalize("NFKC", password).casefold().strip()


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (see workflow/data/README.md), normalized the same way."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
        return frozenset(normalize(line) for line in f if line.strip())


def password_problem(password: str) -> str | None:
    """What is wrong with *password*, in Japanese, or None when it may be used."""
    if len(password) < MIN_LENGTH:
        return f"パスワードは{MIN_LENGTH}文字以上にしてください。"
    if len(password) > MAX_LENGTH:
        return f"パスワードは{MAX_LENGTH}文字以内にしてください。"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF for ch in password):
        return "パスワードに制御文字は使えません。"
    if normalize(password) in common_passwords():
        return "このパスワードはよく使われていて推測されやすいため、使えません。"
    return None
