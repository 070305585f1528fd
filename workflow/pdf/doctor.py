"""``flask --app wsgi doctor``: is this machine ready to print the official documents?

One line per check, in Japanese, ✓ or ✗ with what to install; exit status 1 if anything is
missing. Run it after deploying to a new machine (scripts/setup.sh installs what it names).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from workflow.extensions import db
from workflow.pdf import fonts

__all__ = ["Check", "doctor_command", "run_checks"]


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    message: str

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.message}"


def check_font(font: fonts.FontFile) -> Check:
    try:
        path = fonts.font_path(font)
        glyphs = len(fonts.cmap(font))
    except fonts.FontMissingError:
        return Check(False, f"書体 {font.label}: 見つかりません（apt-get install {font.package}）")
    except Exception as exc:  # a damaged file: say so rather than crash the doctor
        return Check(
            False,
            f"書体 {font.label}: 読めません（{type(exc).__name__}）。"
            f"apt-get install --reinstall {font.package}",
        )
    return Check(True, f"書体 {font.label}: {path}（{glyphs:,}字）")


def check_harfbuzz_subset() -> Check:
    """WeasyPrint subsets fonts with HarfBuzz; without it, it silently uses fontTools (much slower)."""
    advice = "（apt-get install libharfbuzz-subset0）"
    with warnings.catch_warnings():
        # WeasyPrint warns at import when the library is missing; that is what we report.
        warnings.simplefilter("ignore")
        try:
            from workflow.pdf.weasy import import_weasyprint

            import_weasyprint()
            from weasyprint.text import ffi as weasy_ffi
        except OSError as exc:
            return Check(False, f"WeasyPrint のライブラリを読み込めません: {exc}")
    lib = weasy_ffi.harfbuzz_subset
    if lib is None:
        return Check(
            False, f"HarfBuzz のフォント間引き: libharfbuzz-subset.so.0 がありません{advice}"
        )
    try:
        lib.hb_subset_input_create_or_fail  # noqa: B018  (resolving the symbol is the check)
    except AttributeError:
        return Check(
            False, f"HarfBuzz のフォント間引き: hb_subset_input_create_or_fail がありません{advice}"
        )
    if not weasy_ffi.harfbuzz.hb_version_atleast(4, 1, 0):
        version = weasy_ffi.ffi.string(weasy_ffi.harfbuzz.hb_version_string()).decode()
        return Check(False, f"HarfBuzz {version} は古すぎます（4.1.0 以上が必要）{advice}")
    return Check(True, "HarfBuzz のフォント間引き: 使えます（libharfbuzz-subset.so.0）")


def check_database() -> Check:
    engine = db.engine
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:
        return Check(
            False,
            f"データベース: 接続できません（{type(exc).__name__}）。DATABASE_URL を確かめてください",
        )
    config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    if current != heads:
        return Check(
            False,
            f"データベース（{engine.dialect.name}）: 最新の構造ではありません"
            "（flask --app wsgi db upgrade を実行してください）",
        )
    return Check(True, f"データベース（{engine.dialect.name}）: 接続でき、構造も最新です")


def run_checks() -> list[Check]:
    """Every check, in the order printed."""
    return [*(check_font(font) for font in fonts.FONTS), check_harfbuzz_subset(), check_database()]


@click.command("doctor", help="PDF の書体・HarfBuzz・データベースの準備ができているか確かめる")
@with_appcontext
def doctor_command() -> None:
    checks = run_checks()
    for check in checks:
        click.echo(check.line())
    if not all(check.ok for check in checks):
        raise SystemExit(1)
