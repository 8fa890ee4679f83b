#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store tests, living entirely in one folder.
#
#   scripts/pg-test-server.sh start DIR [PORT]   initdb DIR/data, start on 127.0.0.1:PORT,
#                                                print the SQLAlchemy URL on stdout
#   scripts/pg-test-server.sh stop DIR           stop it (the folder is left for the caller to delete)
#
# Uses Debian's server binaries ($PG_LIB_DIR/*/bin, default /usr/lib/postgresql, newest first), or $PG_BIN.
# Trust authentication, listening on 127.0.0.1 only, unix socket inside DIR, no fsync:
# for tests only, never for data that matters.  initdb refuses to run as root, so when
# run as root the server runs as the `postgres` system user (created by the Debian package).
# Exit codes: 0 ok, 2 usage, 3 binaries missing, 4 server did not start.
set -euo pipefail

usage() { echo "usage: $0 start DIR [PORT] | stop DIR" >&2; exit 2; }

find_bin() {
  if [[ -n "${PG_BIN:-}" && -x "$PG_BIN/pg_ctl" ]]; then echo "$PG_BIN"; return; fi
  local d
  local root="${PG_LIB_DIR:-/usr/lib/postgresql}"
  for d in $(ls -d "$root"/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then echo "$d"; return; fi
  done
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin." >&2
  echo "Install them with 'make test' (it installs the apt package 'postgresql')," >&2
  echo "or 'apt-get install -y postgresql', or point PG_BIN at a folder holding initdb and pg_ctl." >&2
  exit 3
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# as_owner CMD...: run as the owner of the cluster (postgres when we are root)
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then "$(command -v runuser || echo /usr/sbin/runuser)" -u postgres -- "$@"; else "$@"; fi
}

cmd="${1:-}"; dir="${2:-}"
[[ -n "$cmd" && -n "$dir" ]] || usage
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

case "$cmd" in
  start)
    port="${3:-$(free_port)}"
    bin="$(find_bin)"
    if [[ "$(id -u)" == 0 ]]; then
      id postgres >/dev/null 2>&1 || { echo "user 'postgres' missing: install the 'postgresql' package" >&2; exit 3; }
      chown postgres "$dir"
      chmod 700 "$dir"
    fi
    if [[ ! -s "$dir/data/PG_VERSION" ]]; then
      as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 4; }
    fi
    opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off"
    opts+=" -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB"
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null; then
      cat "$dir/server.log" >&2 || true
      exit 4
    fi
    echo "$port" > "$dir/port"
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin="$(find_bin)"
    if [[ -s "$dir/data/postmaster.pid" ]]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null
    fi
    ;;
  *) usage ;;
esac
