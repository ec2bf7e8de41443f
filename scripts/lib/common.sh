# Shared by scripts/dev, scripts/test and scripts/bench: settings, and making sure PostgreSQL
# and Redis answer (installing them with apt-get on a fresh Debian machine when missing).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/petory-target}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/petory}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

log() { printf '\033[1m[petory]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* yourself"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# host and port of a URL like scheme://user:pass@host:port/path
url_host() { local rest="${1#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"; echo "${rest%%:*}"; }
url_port() { local rest="${1#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"; [[ "$rest" == *:* ]] && echo "${rest##*:}" || echo "$2"; }

tcp_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

wait_for() { # wait_for NAME HOST PORT
  for _ in $(seq 1 60); do tcp_open "$2" "$3" && return 0; sleep 0.5; done
  die "$1 did not come up on $2:$3"
}

ensure_postgres() {
  local host port; host="$(url_host "$DATABASE_URL")"; port="$(url_port "$DATABASE_URL" 5432)"
  if ! tcp_open "$host" "$port"; then
    [ "$host" = "127.0.0.1" ] || [ "$host" = "localhost" ] || die "PostgreSQL at $host:$port does not answer"
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      log "installing PostgreSQL (apt-get)"
      apt_install postgresql postgresql-client
    fi
    local version; version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
      || as_root pg_ctlcluster "$version" main start
    wait_for PostgreSQL "$host" "$port"
    # A fresh cluster refuses password-less TCP logins: give `postgres` the password in the URL.
    local password; password="$(url_password "$DATABASE_URL")"
    if [ -n "$password" ]; then
      as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD '$password'\"" >/dev/null 2>&1 || true
    fi
  fi
  command -v psql >/dev/null || apt_install postgresql-client
}

url_password() { local rest="${1#*://}"; [[ "$rest" == *@* ]] || return 0; rest="${rest%%@*}"; [[ "$rest" == *:* ]] && echo "${rest#*:}"; }

# The URL of the maintenance database on the same server.
admin_url() { local base="${DATABASE_URL%%\?*}"; echo "${base%/*}/postgres"; }

ensure_database() {
  local name="${DATABASE_URL%%\?*}"; name="${name##*/}"
  if [ "$(psql "$(admin_url)" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" != "1" ]; then
    log "creating database $name"
    psql "$(admin_url)" -q -c "CREATE DATABASE \"$name\""
  fi
}

ensure_redis() {
  local host port; host="$(url_host "$REDIS_URL")"; port="$(url_port "$REDIS_URL" 6379)"
  tcp_open "$host" "$port" && return 0
  [ "$host" = "127.0.0.1" ] || [ "$host" = "localhost" ] || die "Redis at $host:$port does not answer"
  command -v redis-server >/dev/null || { log "installing Redis (apt-get)"; apt_install redis-server; }
  log "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/petory.log
  wait_for Redis "$host" "$port"
}

# Node.js and npm, for the OpenAPI linter (Debian's packages on a fresh machine).
ensure_node() {
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  log "installing Node.js and npm (apt-get)"
  apt_install nodejs npm
}

TOOLS_DIR="${PETORY_TOOLS_DIR:-/var/tmp/petory-tools}"

# Redocly's OpenAPI linter, installed once from scripts/openapi-lint's lock file into TOOLS_DIR
# (outside the clone) and again only when the lock file changes.
openapi_lint() {
  ensure_node
  local dir="$TOOLS_DIR/openapi-lint"
  if ! cmp -s "$ROOT/scripts/openapi-lint/package-lock.json" "$dir/package-lock.json" \
     || [ ! -x "$dir/node_modules/.bin/redocly" ]; then
    log "installing the OpenAPI linter (npm ci)"
    mkdir -p "$dir"
    cp "$ROOT/scripts/openapi-lint/package.json" "$ROOT/scripts/openapi-lint/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  "$dir/node_modules/.bin/redocly" lint "$ROOT/docs/openapi.json" --config "$ROOT/redocly.yaml" --format=summary
}

# Python's icalendar and recurring-ical-events in a virtualenv under TOOLS_DIR, installed once
# from scripts/ical-check's pins: the calendar test reads our feed back with them. Exports
# PETORY_ICAL_PYTHON for the tests.
ical_checker() {
  command -v python3 >/dev/null || { log "installing Python (apt-get)"; apt_install python3; }
  local dir="$TOOLS_DIR/ical-check"
  if ! cmp -s "$ROOT/scripts/ical-check/requirements.txt" "$dir/requirements.txt" \
     || [ ! -x "$dir/bin/python" ]; then
    log "installing the iCalendar checker (pip)"
    rm -rf "$dir"
    python3 -m venv "$dir" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$dir"; }
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$ROOT/scripts/ical-check/requirements.txt"
    cp "$ROOT/scripts/ical-check/requirements.txt" "$dir/"
  fi
  export PETORY_ICAL_PYTHON="$dir/bin/python"
}
