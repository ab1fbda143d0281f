# shellcheck shell=bash
# Shared paths and helpers for stack/up, stack/down and stack/status.
# Sourced, never run. Every daemon gets STACK_DIR/run/NAME.pid and STACK_DIR/log/NAME.log.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# munge, MariaDB, SLURM and Swift run as their own users and keep state in STACK_DIR, so it
# must be reachable by them. A clone under /root is not: then <repo>/.stack becomes a link
# to a folder under /var/lib, and every tool that reads <repo>/.stack still finds it.
if [[ -z ${STACK_DIR:-} ]]; then
  STACK_DIR=$REPO_ROOT/.stack
  if [[ ! -e $STACK_DIR && $(id -u) -eq 0 ]] &&
    ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$REPO_ROOT"; then
    fallback=/var/lib/hpc-bridge-stack/$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)
    mkdir -p "$fallback"
    chmod 755 /var/lib/hpc-bridge-stack "$fallback"
    ln -s "$fallback" "$STACK_DIR"
  fi
fi
mkdir -p "$STACK_DIR"
STACK_DIR="$(cd "$STACK_DIR" && pwd -P)"
export REPO_ROOT STACK_DIR

STACK_CONF="$REPO_ROOT/stack/conf"
RUN_DIR="$STACK_DIR/run"
LOG_DIR="$STACK_DIR/log"
LAB_RUNTIME=/opt/hpc-bridge/lab

# Daemons must not inherit the caller's PATH (pyenv shims, ...): everything here is Debian's.
SYSTEM_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

DEMO_PASSWORD=hpc-demo
DEMO_USERS=(alice bob carol admin)
COURSE_GROUP=ml101
COURSE_MEMBERS=(alice bob carol)
BRIDGE_UNIX_USER=hpcbridge
# The bridge's local serving replicas run as this account (serving.providers.local.runAs).
SERVE_UNIX_USER=hpcb-serve

# Start order; stack/down walks it backwards. The -demo2 ones are the second cluster's.
DAEMONS=(munge mariadb slurmdbd slurmctld slurmd sshd slurmctld-demo2 slurmd-demo2 sshd-demo2
  memcached swift-account swift-container swift-object swift-proxy jupyterhub)

log() { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

require_root() {
  [[ $(id -u) -eq 0 ]] || die "run as root (the stack creates Unix users and starts system daemons)"
}

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }
log_file() { printf '%s/%s.log' "$LOG_DIR" "$1"; }

# Prints the pid of NAME if its pid file names a live process.
daemon_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f $file ]] || return 1
  pid="$(<"$file")"
  [[ $pid =~ ^[0-9]+$ ]] && process_running "$pid" || return 1
  printf '%s' "$pid"
}

# kill -0 also succeeds for a zombie, and our daemons' parent (init here) may reap late.
process_running() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ ${stat%% *} != Z ]]
}

daemon_alive() { daemon_pid "$1" >/dev/null; }

# private_dir DIR: creates DIR (and parents) readable by its owner alone; files already in it
# lose their group and other bits too (an older stack wrote its logs 644).
private_dir() {
  mkdir -p "$1"
  chmod 700 "$1"
  find "$1" -mindepth 1 -maxdepth 1 -perm /077 -exec chmod go-rwx {} + 2>/dev/null || true
}

# readable_by_others DIR...: the first file or folder under DIR that an unprivileged user
# who is not its owner can read (checked as nobody: modes, owners and parents together).
readable_by_others() {
  local dir
  for dir in "$@"; do
    [[ -e $dir ]] || continue
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
      find "$dir" -mindepth 1 \( -type f -o -type d \) -readable -print -quit 2>/dev/null || true
  done | head -n 1
}

# child_pids PID: the pids of the live processes whose parent is PID, one a line.
child_pids() {
  local stat rest state ppid
  for stat in /proc/[0-9]*/stat; do
    rest="$(cat "$stat" 2>/dev/null)" || continue
    rest="${rest##*) }"
    read -r state ppid _ <<<"$rest"
    if [[ $ppid == "$1" && $state != Z ]]; then
      stat="${stat#/proc/}"
      printf '%s\n' "${stat%/stat}"
    fi
  done
}

# start_daemon NAME CMD...: runs CMD in its own session with stdout/stderr in the log.
# Returns 1 (and starts nothing) when NAME is already running.
start_daemon() {
  local name=$1
  shift
  local pid
  if pid="$(daemon_pid "$name")"; then
    log "$name already running (pid $pid)"
    return 1
  fi
  private_dir "$LOG_DIR"
  mkdir -p "$RUN_DIR"
  (
    umask 077
    printf '\n==== %s start %s\n' "$name" "$(date -Is)" >>"$(log_file "$name")"
  )
  # setsid does not fork here (a background job is no group leader), so $! is the daemon itself.
  env PATH="$SYSTEM_PATH" setsid "$@" </dev/null >>"$(log_file "$name")" 2>&1 &
  echo $! >"$(pid_file "$name")"
  log "$name started (pid $!)"
}

stop_daemon() {
  local name=$1 pid i
  if ! pid="$(daemon_pid "$name")"; then
    rm -f "$(pid_file "$name")"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    process_running "$pid" || break
    sleep 0.1
  done
  if process_running "$pid"; then
    warn "$name (pid $pid) ignored TERM for 10 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$name")"
  log "$name stopped"
}

# wait_until NAME SECONDS CHECK...: polls CHECK until it succeeds; on timeout prints the
# log tail of NAME and exits.
wait_until() {
  local name=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      printf '[stack] ERROR: %s not healthy after %ss (check: %s). Last lines of %s:\n' \
        "$name" "$timeout" "$*" "$(log_file "$name")" >&2
      tail -n 30 "$(log_file "$name")" >&2 || true
      exit 1
    fi
    if [[ -f $(pid_file "$name") ]] && ! daemon_alive "$name"; then
      printf '[stack] ERROR: %s exited during start. Last lines of %s:\n' "$name" "$(log_file "$name")" >&2
      tail -n 30 "$(log_file "$name")" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" || true; }

http_ok() { [[ $(http_code "$@") == 200 ]]; }

# ensure_secret FILE [OWNER]: 32 random bytes as hex, created once, mode 600.
ensure_secret() {
  local file=$1 owner=${2:-root}
  if [[ ! -s $file ]]; then
    mkdir -p "$(dirname "$file")"
    (
      umask 077
      od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file"
    )
  fi
  chmod 600 "$file"
  chown "$owner" "$file"
}

# file_digest FILE: the sha256 of FILE, or nothing when it does not exist.
file_digest() {
  if [[ -f $1 ]]; then
    sha256sum "$1" | cut -d' ' -f1
  fi
}

# render TEMPLATE DEST [MODE] [OWNER]: replaces @NAME@ with the value of the shell variable
# NAME for every name used in the template; fails on an unset one.
render() {
  local src=$1 dest=$2 mode=${3:-644} owner=${4:-root} text name
  text="$(<"$src")"
  for name in $(grep -o '@[A-Z_][A-Z0-9_]*@' "$src" | sort -u | tr -d '@'); do
    [[ -n ${!name+x} ]] || die "render $src: variable $name is not set"
    text="${text//@"$name"@/${!name}}"
  done
  mkdir -p "$(dirname "$dest")"
  printf '%s\n' "$text" >"$dest.tmp"
  chmod "$mode" "$dest.tmp"
  chown "$owner" "$dest.tmp"
  mv -f "$dest.tmp" "$dest"
}
