# shellcheck shell=bash
# The production shape on one machine: the bridge's store on PostgreSQL (--with-postgres)
# and several bridge replicas behind HAProxy (--replicas N). Both are remembered in
# STACK_DIR (later runs keep them) until `./stack/up --replicas 1` or --without-postgres.
#
# With one replica the hub starts and watches the bridge as a managed service. With more,
# the hub knows the bridge as an external service at the balancer's address (:8765, the
# same URL as before) and the stack starts the replicas itself on :8766, :8767, ...: each is
# `bridge-N` for stack/ctl (kill9 bridge-1 is the leader-crash fault).

PG_DIR="$STACK_DIR/postgres"
PG_PORT=5440
PG_BIN=/usr/lib/postgresql/15/bin
PG_MARKER="$PG_DIR/enabled"
REPLICAS_FILE="$STACK_DIR/replicas"
HAPROXY_DIR="$STACK_DIR/haproxy"
FIRST_REPLICA_PORT=8766
PRODUCTION_APT_PACKAGES=(postgresql haproxy)

postgres_wanted() { [[ -f $PG_MARKER ]]; }

replica_count() {
  local n
  n="$(cat "$REPLICAS_FILE" 2>/dev/null || echo 1)"
  [[ $n =~ ^[1-9]$ ]] && printf '%s' "$n" || printf 1
}

# remember_production_shape REPLICAS POSTGRES: what stack/up was asked for (empty: keep).
remember_production_shape() {
  if [[ -n $1 ]]; then
    [[ $1 =~ ^[1-9]$ ]] || die "--replicas takes 1 to 9 (got \"$1\")"
    printf '%s\n' "$1" >"$REPLICAS_FILE"
  fi
  case $2 in
    yes) mkdir -p "$PG_DIR" && touch "$PG_MARKER" ;;
    no) rm -f "$PG_MARKER" ;;
  esac
}

production_wanted() { postgres_wanted || (($(replica_count) > 1)); }

install_production_packages() {
  production_wanted || return 0
  local missing=() pkg
  for pkg in "${PRODUCTION_APT_PACKAGES[@]}"; do
    package_installed "$pkg" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  block_service_autostart
  log "apt: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}"
}

# ---- PostgreSQL -------------------------------------------------------------------------

pg_ok() { as_postgres "$PG_BIN/pg_isready" -q -h "$PG_DIR/run" -p "$PG_PORT"; }

as_postgres() { setpriv --reuid=postgres --regid=postgres --clear-groups "$@"; }

# psql as the superuser over the Unix socket (peer authentication: no password).
pg_sql() { as_postgres "$PG_BIN/psql" -h "$PG_DIR/run" -p "$PG_PORT" -v ON_ERROR_STOP=1 -qtA "$@"; }

start_postgres() {
  postgres_wanted || return 0
  install -d -o postgres -g postgres -m 700 "$PG_DIR/data" "$PG_DIR/run"
  if [[ ! -f $PG_DIR/data/PG_VERSION ]]; then
    log "postgres: initdb in $PG_DIR/data"
    as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth-local=peer \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  ensure_secret "$PG_DIR/bridge.password"
  start_daemon postgres setpriv --reuid=postgres --regid=postgres --clear-groups "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -k "$PG_DIR/run" \
    -c listen_addresses=127.0.0.1 -c max_connections=200 || true
  wait_until postgres 30 pg_ok
  pg_bridge_database
}

# The bridge's role and database (idempotent); its password from a 0600 file.
pg_bridge_database() {
  local password
  password="$(<"$PG_DIR/bridge.password")"
  if [[ -z $(pg_sql -c "SELECT 1 FROM pg_roles WHERE rolname = 'hpcbridge'") ]]; then
    pg_sql -c "CREATE ROLE hpcbridge LOGIN PASSWORD '$password'"
  fi
  if [[ -z $(pg_sql -c "SELECT 1 FROM pg_database WHERE datname = 'hpcbridge'") ]]; then
    pg_sql -c "CREATE DATABASE hpcbridge OWNER hpcbridge"
  fi
}

# What bridge-config.yaml's `store:` says: the SQLite file, or the stack's PostgreSQL.
bridge_store_setting() {
  if postgres_wanted; then
    printf '{ url: "postgres://hpcbridge@127.0.0.1:%s/hpcbridge", password: { file: %s } }' \
      "$PG_PORT" "$PG_DIR/bridge.password"
  else
    printf '{ path: %s/bridge.db }' "$BRIDGE_DIR"
  fi
}

# ---- replicas behind HAProxy ------------------------------------------------------------

replica_port() { printf '%s' $((FIRST_REPLICA_PORT + $1 - 1)); }

replica_ok() { http_ok "http://127.0.0.1:$(replica_port "$1")/services/hpc-bridge/api/v1/version"; }

start_replicas() {
  local n i
  n="$(replica_count)"
  ((n > 1)) || return 0
  for ((i = 1; i <= n; i++)); do
    (
      umask 077
      sed "s/^listen: .*/listen: { host: 127.0.0.1, port: $(replica_port "$i") }/" \
        "$BRIDGE_DIR/config.yaml" >"$BRIDGE_DIR/config-$i.yaml.new"
    )
    if ! cmp -s "$BRIDGE_DIR/config-$i.yaml.new" "$BRIDGE_DIR/config-$i.yaml"; then
      stop_daemon "bridge-$i"
    fi
    mv "$BRIDGE_DIR/config-$i.yaml.new" "$BRIDGE_DIR/config-$i.yaml"
    # The same environment the hub gives its managed service; secrets in the environment
    # (readable by root alone in /proc), never in argv.
    JUPYTERHUB_API_TOKEN="$(<"$BRIDGE_DIR/hub-api.token")" \
      JUPYTERHUB_API_URL=http://127.0.0.1:8081/hub/api \
      JUPYTERHUB_SERVICE_PREFIX=/services/hpc-bridge/ \
      JUPYTERHUB_SERVICE_NAME=hpc-bridge \
      HPC_BRIDGE_SECRET_KEY="$(<"$BRIDGE_DIR/secret.key")" \
      start_daemon "bridge-$i" env -C "$BRIDGE_DIR" "$(command -v node)" \
      "$REPO_ROOT/server-bridge/lib/main.js" serve --config "$BRIDGE_DIR/config-$i.yaml" || true
  done
  for ((i = 1; i <= n; i++)); do
    wait_until "bridge-$i" 60 replica_ok "$i"
  done
  start_haproxy "$n"
}

start_haproxy() {
  local n=$1 i servers=''
  for ((i = 1; i <= n; i++)); do
    servers+="  server bridge-$i 127.0.0.1:$(replica_port "$i") check"$'\n'
  done
  install -d -m 700 "$HAPROXY_DIR"
  # SSE streams and long transfers stay open: client/server/tunnel timeouts of an hour.
  # Only failed connections are retried (a POST that reached a replica is never sent twice).
  cat >"$HAPROXY_DIR/haproxy.cfg.new" <<EOF
global
  maxconn 4096
  stats socket $HAPROXY_DIR/admin.sock mode 600 level admin
defaults
  mode http
  option http-server-close
  timeout connect 2s
  timeout client 1h
  timeout server 1h
  timeout tunnel 1h
  retries 2
  option redispatch
frontend bridge
  bind 127.0.0.1:8765
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /services/hpc-bridge/api/v1/version
  http-check expect status 200
  default-server inter 1s fall 2 rise 1
$servers
EOF
  if ! cmp -s "$HAPROXY_DIR/haproxy.cfg.new" "$HAPROXY_DIR/haproxy.cfg"; then
    mv "$HAPROXY_DIR/haproxy.cfg.new" "$HAPROXY_DIR/haproxy.cfg"
    stop_daemon haproxy
  else
    rm -f "$HAPROXY_DIR/haproxy.cfg.new"
  fi
  start_daemon haproxy /usr/sbin/haproxy -db -f "$HAPROXY_DIR/haproxy.cfg" || true
  wait_until haproxy 30 bridge_ok
}

# One command to the balancer's admin socket (python3: socat is not installed).
haproxy_command() {
  local answer
  answer="$(python3 - "$HAPROXY_DIR/admin.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
print(s.makefile().read().strip())
PY
)" || die "HAProxy's admin socket does not answer (is the stack in --replicas N?)"
  [[ -z $answer ]] || die "HAProxy: $answer"
}

# Replicas beyond the wanted count (after --replicas went down) and the balancer when
# the hub manages the bridge again.
stop_replicas() {
  local keep=${1:-0} i
  for ((i = 9; i > keep; i--)); do
    stop_daemon "bridge-$i"
  done
  ((keep > 1)) || stop_daemon haproxy
}

stop_postgres() { stop_daemon postgres; }
