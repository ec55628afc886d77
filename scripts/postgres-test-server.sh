#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests: everything it owns (the cluster, the Unix socket,
# the log) lives in one folder, it listens on 127.0.0.1 only, and it trusts every local
# connection, so tests can start, crash, restart and delete servers of their own.
#
# Usage: scripts/postgres-test-server.sh start DIR PORT    initdb DIR/data when it is missing, start
#                                                          the server and print its URL on stdout:
#                                                          postgres://spendboard@127.0.0.1:PORT/spendboard
#        scripts/postgres-test-server.sh stop DIR          fast shutdown; fine if it is not running
#        scripts/postgres-test-server.sh kill DIR          kill -9 the postmaster and its children
#                                                          (crash tests); fine if it is not running
#        scripts/postgres-test-server.sh restart DIR PORT  stop, then start on the same data
#        scripts/postgres-test-server.sh destroy DIR       stop, then rm -rf DIR
#
# DIR/postgres.log holds the server's log. The binaries come from $POSTGRES_BINDIR when it is set,
# else from `pg_config --bindir`, else from the newest /usr/lib/postgresql/*/bin (Debian's layout).
# initdb, pg_ctl and postgres refuse to run as root, so as root they run as the `postgres` user
# (created when it is missing) and DIR is handed to that user.
set -euo pipefail

program=postgres-test-server

die() {
  echo "$program: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start DIR PORT | stop DIR | kill DIR | restart DIR PORT | destroy DIR" >&2
  exit 2
}

find_bindir() {
  local candidate
  if [ -n "${POSTGRES_BINDIR:-}" ]; then
    [ -x "$POSTGRES_BINDIR/initdb" ] || die "POSTGRES_BINDIR=$POSTGRES_BINDIR has no initdb"
    echo "$POSTGRES_BINDIR"
    return
  fi
  # Debian's /usr/bin/pg_config may belong to libpq-dev alone, so check that the server is there.
  if candidate=$(pg_config --bindir 2>/dev/null) && [ -x "$candidate/initdb" ] && [ -x "$candidate/postgres" ]; then
    echo "$candidate"
    return
  fi
  candidate=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$candidate" ] && [ -x "$candidate/initdb" ] && [ -x "$candidate/postgres" ]; then
    echo "$candidate"
    return
  fi
  # Last resort: whatever is on PATH (/usr/local/bin/initdb is a link into the Debian layout).
  if candidate=$(command -v initdb 2>/dev/null); then
    candidate=$(dirname "$(realpath "$candidate")")
    [ -x "$candidate/postgres" ] && { echo "$candidate"; return; }
  fi
  die "no PostgreSQL server binaries found (install Debian's postgresql package or set POSTGRES_BINDIR)"
}

# Looked up only when needed, so that kill and destroy still work on a folder whose server is not
# running when the binaries are gone. Explicit exit: errexit is off inside `if ! (stop)`.
need_bindir() {
  [ -n "${bindir:-}" ] || bindir=$(find_bindir) || exit 1
}

# Runs a PostgreSQL server program as the user that owns the cluster. `cd "$dir"` first, because
# the postgres user may not be allowed into the caller's working directory.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$dir" && runuser -u postgres -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

# Closes every descriptor above stderr that this shell inherited. The server outlives the script:
# any pipe it inherits stays open, and whoever waits on that pipe for the script's end (a test
# harness that learns a child exited when a pipe closes) waits forever.
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then
      eval "exec $fd>&-" 2>/dev/null || true
    fi
  done
}

# Gives DIR to the postgres user when running as root: it must own the data folder and write the
# socket and the log, and every folder above DIR must let it through.
prepare_owner() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! id -u postgres >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
      --shell /usr/sbin/nologin postgres || die "could not create the postgres user"
  fi
  chown -R postgres: "$dir"
  if ! runuser -u postgres -- test -w "$dir" -a -x "$dir"; then
    local parent=$dir
    while [ "$parent" != / ]; do
      parent=$(dirname "$parent")
      if ! runuser -u postgres -- test -x "$parent"; then
        echo "$program: letting the postgres user through $parent (chmod o+x)" >&2
        chmod o+x "$parent"
      fi
    done
    runuser -u postgres -- test -w "$dir" -a -x "$dir" || die "the postgres user cannot write to $dir"
  fi
}

# The postmaster's pid when a server is running on DIR/data; fails otherwise. A pid file alone is
# not proof: after `kill` it stays behind, its pid may have been reused, and a killed postmaster
# can stay a zombie where nothing reaps orphans (PID 1 of a container), which `kill -0` and
# pg_ctl both count as running.
running_pid() {
  local pid cwd
  [ -f "$data/postmaster.pid" ] || return 1
  read -r pid 2>/dev/null <"$data/postmaster.pid" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  ! gone "$pid" || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || return 1
  # The postmaster works in its data folder. When that cannot be read (another user's process),
  # assume it is ours: the safe answer, since a stale pid file is only removed when not running.
  if cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null); then
    [ "$cwd" = "$(cd "$data" && pwd -P)" ] || return 1
  fi
  echo "$pid"
}

# The state letter and the parent pid of process $1 in the array `fields`, from /proc/PID/stat
# (procps is not in every image); fails when there is no such process. The command name in
# parentheses before them may hold spaces.
proc_stat() {
  local line
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  read -r -a fields <<<"${line##*) }"
}

children_of() {
  local stat pid fields
  for stat in /proc/[0-9]*/stat; do
    pid=${stat#/proc/}
    pid=${pid%/stat}
    proc_stat "$pid" || continue
    [ "${fields[1]}" != "$1" ] || echo "$pid"
  done
}

gone() {  # true when process $1 has exited (a zombie counts as gone)
  local fields
  proc_stat "$1" || return 0
  [ "${fields[0]}" = Z ] || [ "${fields[0]}" = X ]
}

log_tail() {
  if [ -f "$dir/postgres.log" ]; then
    echo "--- last lines of $dir/postgres.log ---" >&2
    tail -n 30 "$dir/postgres.log" >&2
  fi
}

# A single-quoted configuration value.
conf_string() {
  printf "'%s'" "${1//\'/\'\'}"
}

start() {
  local pid output
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad port: $port"
  # The socket's path must fit in sockaddr_un (107 bytes), else the server cannot start.
  local socket="$dir/.s.PGSQL.$port"
  [ "${#socket}" -le 107 ] || die "$dir is too long for a Unix socket path (${#socket} > 107 bytes)"
  if pid=$(running_pid); then
    die "a server is already running on $data (pid $pid); use restart or stop"
  fi
  need_bindir
  prepare_owner

  if [ ! -f "$data/PG_VERSION" ]; then
    [ ! -e "$data" ] || [ -z "$(ls -A "$data")" ] || die "$data exists but holds no cluster"
    # --no-sync only skips initdb's own flushes of the fresh cluster; the server keeps fsync on.
    if ! output=$(as_owner "$bindir/initdb" -D "$data" -A trust -U spendboard -E UTF8 --locale=C \
      --no-sync --no-instructions 2>&1); then
      echo "$output" >&2
      die "initdb failed for $data"
    fi
    # The settings that change with the arguments are rewritten by every start.
    printf '\n# Written by scripts/postgres-test-server.sh.\ninclude_if_exists = %s\n' \
      "$(conf_string test-server.conf)" >>"$data/postgresql.conf"
  fi

  # Left behind by `kill`: with no server running they are stale, and the pid in them may now be
  # a zombie or someone else's, which would make the postmaster refuse to start.
  rm -f "$data/postmaster.pid" "$dir"/.s.PGSQL.*
  cat >"$data/test-server.conf" <<EOF
# Rewritten by scripts/postgres-test-server.sh on every start.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = $(conf_string "$dir")
max_connections = 200
# The tests measure durability: keep the flushes a real server does.
fsync = on
synchronous_commit = on
full_page_writes = on
# pg_ctl -l sends the server's stderr to DIR/postgres.log.
logging_collector = off
EOF
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$data/test-server.conf"; fi

  if ! output=$(close_inherited_fds; as_owner "$bindir/pg_ctl" start -D "$data" -l "$dir/postgres.log" -w -t 60 2>&1); then
    echo "$output" >&2
    log_tail
    die "the server did not start on 127.0.0.1:$port (data: $data)"
  fi

  local psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U spendboard -d postgres)
  local exists
  if ! exists=$("${psql[@]}" -tA -c "select 1 from pg_database where datname = 'spendboard'" 2>&1); then
    echo "$exists" >&2
    log_tail
    die "cannot connect to the server on 127.0.0.1:$port"
  fi
  if [ "$exists" != 1 ]; then
    if ! output=$("${psql[@]}" -c 'create database spendboard' 2>&1); then
      echo "$output" >&2
      log_tail
      die "could not create the spendboard database"
    fi
  fi
  echo "postgres://spendboard@127.0.0.1:$port/spendboard"
}

stop() {
  local pid output
  pid=$(running_pid) || return 0
  need_bindir
  if ! output=$(as_owner "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 2>&1); then
    # It may have exited between the check and the signal.
    running_pid >/dev/null || return 0
    echo "$output" >&2
    log_tail
    die "the server on $data (pid $pid) did not stop"
  fi
}

kill_server() {
  local pid pids waited=0
  pid=$(running_pid) || return 0
  # Freeze the postmaster first so it forks no new child between the listing and the kill.
  kill -STOP "$pid" 2>/dev/null || true
  pids=("$pid" $(children_of "$pid"))
  kill -KILL "${pids[@]}" 2>/dev/null || true
  for pid in "${pids[@]}"; do
    until gone "$pid"; do
      [ "$waited" -lt 200 ] || die "process $pid survived kill -9"
      sleep 0.05
      waited=$((waited + 1))
    done
  done
}

destroy() {
  if ! (stop); then
    echo "$program: stop failed; killing the server" >&2
    kill_server
  fi
  rm -rf "$dir"
}

[ $# -ge 2 ] || usage
command=$1
dir=$2
case "$command" in
  start | restart) [ $# -eq 3 ] || usage; port=$3 ;;
  stop | kill | destroy) [ $# -eq 2 ] || usage ;;
  *) usage ;;
esac
[ -n "$dir" ] || usage

# An absolute DIR: it goes into the server's configuration and pg_ctl runs from inside it.
case "$dir" in
  /*) ;;
  *) dir=$PWD/$dir ;;
esac
dir=$(realpath -m "$dir")
[ "$dir" != / ] || die "refusing to use / as DIR"
data=$dir/data
bindir=

case "$command" in
  start)
    mkdir -p "$dir"
    start
    ;;
  restart)
    mkdir -p "$dir"
    stop
    start
    ;;
  stop) [ ! -d "$dir" ] || stop ;;
  kill) [ ! -d "$dir" ] || kill_server ;;
  destroy) [ ! -e "$dir" ] || destroy ;;
esac
