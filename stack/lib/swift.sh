# shellcheck shell=bash
# memcached and OpenStack Swift (account, container, object, proxy with s3api) on loopback.

SWIFT_DIR="$STACK_DIR/swift"
S3_DIR="$STACK_DIR/s3"
# Swift account per S3 user: "alice:alice" is account alice, user alice.
S3_USERS=(alice bob carol admin bridge)
declare -A SWIFT_PORTS=([account]=6202 [container]=6201 [object]=6200)

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
  install -d -o swift -g swift -m 755 "$SWIFT_DIR/srv" "$SWIFT_DIR/srv/d1"
  build_rings
  write_s3_credentials
  local server
  for server in account container object; do
    SWIFT_SERVER=$server SWIFT_PORT=${SWIFT_PORTS[$server]} \
      render "$STACK_CONF/swift/server.conf" "$SWIFT_DIR/etc/$server-server.conf" 644
    start_daemon "swift-$server" "/usr/bin/swift-$server-server" "$SWIFT_DIR/etc/$server-server.conf" -v || true
  done
  render "$STACK_CONF/swift/proxy-server.conf" "$SWIFT_DIR/etc/proxy-server.conf" 640 root:swift
  start_daemon swift-proxy /usr/bin/swift-proxy-server "$SWIFT_DIR/etc/proxy-server.conf" -v || true
  for server in account container object; do
    wait_until "swift-$server" 60 port_open 127.0.0.1 "${SWIFT_PORTS[$server]}"
  done
  wait_until swift-proxy 60 swift_ok
}
