#!/usr/bin/env bash
# Prepare a working copy for `make run` and `make test`. Safe to run again: each step checks first.
#   - .venv with Python >= 3.11
#   - pip install -e '.[test]', only when pyproject.toml changed since the last install
#   - the app's bytecode compiled
#   - the Debian packages the PDFs and the browser tests need, when missing
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.chogi-pyproject.sha256
# fonts-ipaexfont, fonts-ipamj-mincho: the 明朝/ゴシック fonts the 様式２/様式６ PDFs embed.
# libharfbuzz-subset0: WeasyPrint subsets fonts with HarfBuzz; without it, fontTools does it in
#   Python, much more slowly.
# chromium, chromium-driver: the browser the end-to-end tests drive.
# graphviz: lays out the workflow diagram generated from the state machine (dot).
# postgresql-client: pg_dump/pg_restore for flask backup/restore on PostgreSQL (and their tests).
# libmagic1: the media type of an uploaded 資料 from its content (python-magic).
# libreoffice-*-nogui: `flask worker` converts Word, Excel and PowerPoint 資料 to PDF (headless).
# slapd, ldap-utils: the OpenLDAP server the directory sign-in tests start on a free loopback port
#   with their own configuration (tests/test_directory.py). Installed without questions
#   (DEBIAN_FRONTEND=noninteractive); where its package starts a system slapd, the tests never
#   talk to that one.
DEBIAN_PACKAGES=(fonts-ipaexfont fonts-ipamj-mincho libharfbuzz-subset0 chromium chromium-driver graphviz
    postgresql-client libmagic1 libreoffice-core-nogui libreoffice-writer-nogui libreoffice-calc-nogui
    libreoffice-impress-nogui slapd ldap-utils)

step() { printf 'setup: %s\n' "$*"; }
fail() {
    printf 'setup: %s\n' "$*" >&2
    exit 1
}
python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; }

# -- Python and the virtual environment ----------------------------------------------------------
if [[ -x $VENV/bin/python ]]; then
    python_ok "$VENV/bin/python" ||
        fail "$VENV uses $("$VENV/bin/python" -V 2>&1); chogi needs Python 3.11 or newer (delete $VENV and run again)"
    step "virtual environment $VENV present ($("$VENV/bin/python" -V 2>&1))"
else
    command -v "$PYTHON" >/dev/null || fail "$PYTHON not found; install Python 3.11 or newer (or set PYTHON=...)"
    python_ok "$PYTHON" || fail "$PYTHON is $("$PYTHON" -V 2>&1); chogi needs Python 3.11 or newer (set PYTHON=...)"
    step "creating virtual environment $VENV with $("$PYTHON" -V 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi

# -- Python packages -----------------------------------------------------------------------------
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ -f $STAMP && $(<"$STAMP") == "$wanted" ]]; then
    step "python packages up to date (pyproject.toml unchanged since the last install)"
else
    step "pip install -e '.[test]' (pyproject.toml is new or changed)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
    printf '%s\n' "$wanted" >"$STAMP"
fi
# The app runs from this checkout: compile its bytecode as pip does for what it installs, so no
# process (a worker, a CLI command, a cold PDF) compiles it from source, even where
# PYTHONDONTWRITEBYTECODE is set. Only changed files are compiled again.
"$VENV/bin/python" -m compileall -q workflow wsgi.py

# -- Debian packages -----------------------------------------------------------------------------
if ! command -v dpkg-query >/dev/null; then
    step "not a Debian system: install the equivalents of ${DEBIAN_PACKAGES[*]} yourself"
    exit 0
fi
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
    step "Debian packages present: ${DEBIAN_PACKAGES[*]}"
    exit 0
fi

if ((EUID == 0)); then
    as_root=(env DEBIAN_FRONTEND=noninteractive)
elif command -v sudo >/dev/null; then
    as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
else
    fail "missing Debian packages: ${missing[*]}. Not root and no sudo: as root run
  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
fi
step "installing missing Debian packages: ${missing[*]}"
"${as_root[@]}" apt-get update -qq &&
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    fail "could not install ${missing[*]}; as root run
  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
step "Debian packages installed: ${missing[*]}"
