#!/usr/bin/env bash
# Installs the test tools chainwatch's suite uses, when missing (idempotent):
#   promtool (Debian's prometheus)  - rule and metric-name checks
#   chromium (Debian)               - digest screenshot test (with fonts-wqy-microhei for 卡点/链主)
#   chdb (PyPI)                     - DDL and dashboard SQL checked against a current ClickHouse engine
#   openapi-spec-validator (PyPI)   - internal/api/openapi.yaml checked against the OpenAPI 3 schema
#   ocdskit (PyPI)                  - `ocdskit compile`, the reference OCDS merge the procurement compiler is checked against
set -euo pipefail
log() { printf '[tools] %s\n' "$*"; }

apt_pkgs=()
command -v promtool >/dev/null 2>&1 || apt_pkgs+=(prometheus)
command -v chromium >/dev/null 2>&1 || apt_pkgs+=(chromium)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || apt_pkgs+=(fonts-wqy-microhei)   # CJK glyphs in digest screenshots
if ((${#apt_pkgs[@]})); then
  log "installing ${apt_pkgs[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi
# Debian's prometheus package starts a service on install; the tests only need the promtool binary.
if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus >/dev/null 2>&1 || true; fi

PY="${PYTHON:-python3}"
# chdb.query, not just "import chdb": files an uninstall left behind import as an empty namespace package.
if ! "$PY" -c 'import chdb; chdb.query' >/dev/null 2>&1; then
  log "installing chdb with pip"
  "$PY" -m pip install -q --disable-pip-version-check --force-reinstall chdb
fi
if ! "$PY" -c 'import openapi_spec_validator' >/dev/null 2>&1; then
  log "installing openapi-spec-validator with pip"
  "$PY" -m pip install -q --disable-pip-version-check openapi-spec-validator
fi
if ! command -v ocdskit >/dev/null 2>&1 || ! "$PY" -c 'import ocdskit' >/dev/null 2>&1; then
  log "installing ocdskit with pip"
  "$PY" -m pip install -q --disable-pip-version-check ocdskit
fi
log "promtool: $(promtool --version 2>&1 | head -1)"
log "chromium: $(chromium --version 2>/dev/null || echo missing)"
log "chdb: $("$PY" -c 'import chdb; print(chdb.__version__)')"
log "openapi-spec-validator: $("$PY" -c 'from importlib.metadata import version; print(version("openapi-spec-validator"))')"
log "ocdskit: $("$PY" -c 'from importlib.metadata import version; print(version("ocdskit"))') ($(command -v ocdskit || echo 'not on PATH'))"
