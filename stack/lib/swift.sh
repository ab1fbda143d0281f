# shellcheck shell=bash
# memcached and OpenStack Swift (account, container, object, proxy with s3api) on loopback.

SWIFT_DIR="$STACK_DIR/swift"
S3_DIR="$STACK_DIR/s3"
# Swift account per S3 user: "alice:alice" is account alice, user alice.
S3_USERS=(alice bob carol admin bridge)
declare -A SWIFT_PORTS=([account]=6202 [container]=6201 [object]=6200)
# Browser origins of the hub, allowed to PUT to presigned S3 URLs (comma-separated).
HUB_ORIGINS=http://127.0.0.1:8000,http://localhost:8000
# The storage tiers' buckets (stack/conf/bridge-config.yaml), in the bridge's S3 account.
BRIDGE_BUCKETS=(hpc-project hpc-archive hpc-public hpc-sensitive)

memcached_ok() { port_open 127.0.0.1 11211; }

start_memcached() {
  start_daemon memcached /usr/bin/memcached -u memcache -l 127.0.0.1 -p 11211 -U 0 -m 64 || true
  wait_until memcached 20 memcached_ok
}

build_rings() {
  local etc=$SWIFT_DIR/etc server
  for server in account container object; do
    [[ -f $etc/$server.ring.gz ]] && continue
    rm -f "$etc/$server.builder"
    swift-ring-builder "$etc/$server.builder" create 8 1 1 >/dev/null
    swift-ring-builder "$etc/$server.builder" add "r1z1-127.0.0.1:${SWIFT_PORTS[$server]}/d1" 100 >/dev/null
    swift-ring-builder "$etc/$server.builder" rebalance >/dev/null
    log "swift: $server ring built"
  done
}

write_s3_credentials() {
  local name json="{" sep=""
  install -d -m 700 "$S3_DIR"
  SWIFT_TEMPAUTH_USERS=""
  for name in "${S3_USERS[@]}"; do
    ensure_secret "$S3_DIR/$name.secret"
    SWIFT_TEMPAUTH_USERS+="user_${name}_${name} = $(<"$S3_DIR/$name.secret") .admin"$'\n'
    json+="$sep\"$name\": {\"accessKeyId\": \"$name:$name\", \"secretAccessKey\": \"$(<"$S3_DIR/$name.secret")\"}"
    sep=", "
  done
  (
    umask 077
    printf '%s}\n' "$json" >"$S3_DIR/credentials.json"
  )
}

swift_ok() { [[ $(curl -s -m 5 http://127.0.0.1:8080/healthcheck) == OK ]]; }

start_swift() {
  start_memcached
  install -d -m 755 "$SWIFT_DIR" "$SWIFT_DIR/etc"
  # The object files of every tier, sensitive included: the swift account's alone.
  install -d -o swift -g swift -m 700 "$SWIFT_DIR/srv" "$SWIFT_DIR/srv/d1"
  build_rings
  write_s3_credentials
  local server
  for server in account container object; do
    SWIFT_SERVER=$server SWIFT_PORT=${SWIFT_PORTS[$server]} \
      render "$STACK_CONF/swift/server.conf" "$SWIFT_DIR/etc/$server-server.conf" 644
    (
      umask 077
      start_daemon "swift-$server" "/usr/bin/swift-$server-server" "$SWIFT_DIR/etc/$server-server.conf" -v
    ) || true
  done
  local proxy_conf=$SWIFT_DIR/etc/proxy-server.conf before
  before="$(file_digest "$proxy_conf")"
  render "$STACK_CONF/swift/proxy-server.conf" "$proxy_conf" 640 root:swift
  if [[ $(file_digest "$proxy_conf") != "$before" ]] && daemon_alive swift-proxy; then
    log "swift-proxy: restarting for its changed configuration"
    stop_daemon swift-proxy
  fi
  start_daemon swift-proxy /usr/bin/swift-proxy-server "$SWIFT_DIR/etc/proxy-server.conf" -v || true
  for server in account container object; do
    wait_until "swift-$server" 60 port_open 127.0.0.1 "${SWIFT_PORTS[$server]}"
  done
  wait_until swift-proxy 60 swift_ok
  ensure_buckets bridge "${BRIDGE_BUCKETS[@]}"
  repair_swift_objects
}

# swift_token ACCOUNT: a tempauth token of user ACCOUNT:ACCOUNT (Swift's native API: an S3
# bucket is a Swift container of the account, and creating one needs no SigV4 signature).
swift_token() {
  local name=$1
  # The key goes in through stdin, not argv (argv is world-readable in /proc).
  printf 'X-Auth-User: %s:%s\nX-Auth-Key: %s\n' "$name" "$name" "$(<"$S3_DIR/$name.secret")" |
    curl -sf -m 10 -o /dev/null -D - -H @- http://127.0.0.1:8080/auth/v1.0 |
    tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p'
}

# buckets_exist ACCOUNT BUCKET...: succeeds when every bucket exists.
buckets_exist() {
  local name=$1 token bucket
  shift
  token="$(swift_token "$name")"
  [[ -n $token ]] || return 1
  for bucket in "$@"; do
    [[ $(http_code -I -H "X-Auth-Token: $token" "http://127.0.0.1:8080/v1/AUTH_$name/$bucket") == 204 ]] ||
      return 1
  done
}

# swift_objects_ok: what an upload and a download do: writes, reads back and deletes a small
# object in the bridge's first bucket. A one-node object server can wedge (every object
# request 503, "Please reduce your request rate" through s3api) while listings still work.
swift_objects_ok() {
  local token url body="stack probe $$ $RANDOM"
  token="$(swift_token bridge)"
  [[ -n $token ]] || return 1
  url="http://127.0.0.1:8080/v1/AUTH_bridge/${BRIDGE_BUCKETS[0]}/.hpc-stack-probe-$$"
  printf '%s' "$body" | curl -sf -m 15 -o /dev/null -T - -H "X-Auth-Token: $token" "$url" &&
    [[ $(curl -sf -m 15 -H "X-Auth-Token: $token" "$url") == "$body" ]] &&
    curl -sf -m 15 -o /dev/null -X DELETE -H "X-Auth-Token: $token" "$url"
}

# repair_swift_objects: restarts a wedged (or stopped) object server.
repair_swift_objects() {
  swift_objects_ok && return 0
  warn "swift: objects cannot be written or read; restarting swift-object"
  local pid
  if pid="$(daemon_pid swift-object)"; then
    kill -CONT "$pid" 2>/dev/null || true
  fi
  stop_daemon swift-object
  (
    umask 077
    start_daemon swift-object /usr/bin/swift-object-server "$SWIFT_DIR/etc/object-server.conf" -v
  ) || true
  wait_until swift-object 60 port_open 127.0.0.1 "${SWIFT_PORTS[object]}"
  wait_until swift-objects 60 swift_objects_ok
}

# ensure_buckets ACCOUNT BUCKET...: creates the missing buckets (PUT on a container is idempotent).
ensure_buckets() {
  local name=$1 token bucket code
  shift
  token="$(swift_token "$name")"
  [[ -n $token ]] || die "swift: no tempauth token for $name:$name"
  for bucket in "$@"; do
    code="$(http_code -X PUT -H "X-Auth-Token: $token" "http://127.0.0.1:8080/v1/AUTH_$name/$bucket")"
    case $code in
      201) log "swift: bucket $bucket created for $name" ;;
      202) ;;
      *) die "swift: creating bucket $bucket for $name answered HTTP $code" ;;
    esac
  done
}
