# shellcheck shell=bash
# Last step of stack/up: installs each demo user's bridge-generated SSH public key, exactly
# as a user would by hand: ask the bridge for the key (GET …/credentials/ssh with a token of
# the user) and append it to ~/.ssh/authorized_keys.

# bridge_user_key USER: prints USER's public key for the demo cluster.
bridge_user_key() {
  local user=$1 admin_token token
  admin_token="$(<"$STACK_DIR/admin.token")"
  token="$(curl -sf -m 10 -X POST -H "Authorization: token $admin_token" \
    -H 'Content-Type: application/json' \
    -d '{"note": "stack/up: install the bridge key", "expires_in": 300}' \
    "http://127.0.0.1:8081/hub/api/users/$user/tokens" |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')" ||
    die "cannot create a hub token for $user"
  curl -sf -m 30 -H "Authorization: token $token" \
    'http://127.0.0.1:8000/services/hpc-bridge/api/v1/credentials/ssh?cluster=demo' |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["publicKey"])' ||
    die "the bridge did not give a key for $user (see $LOG_DIR/bridge.log)"
}

# The keys asked for last time, BRIDGE_KEYS_DIR/USER.pub, and the pid of the hub that gave
# them (BRIDGE_KEYS_DIR/hub.pid): while that hub runs and every key is still authorized,
# asking again (a hub token and a bridge call per user, ~2 s in all) would change nothing.
BRIDGE_KEYS_DIR="$STACK_DIR/bridge/keys"

bridge_keys_current() {
  local name home
  [[ -f $BRIDGE_KEYS_DIR/hub.pid && $(<"$BRIDGE_KEYS_DIR/hub.pid") == "$(daemon_pid jupyterhub)" ]] ||
    return 1
  for name in "${DEMO_USERS[@]}"; do
    home="$(getent passwd "$name" | cut -d: -f6)"
    [[ -s $BRIDGE_KEYS_DIR/$name.pub ]] &&
      grep -qxF "$(<"$BRIDGE_KEYS_DIR/$name.pub")" "$home/.ssh/authorized_keys" 2>/dev/null ||
      return 1
  done
}

install_bridge_keys() {
  local name pub
  [[ -f $REPO_ROOT/server-bridge/lib/main.js ]] || {
    warn "no bridge build: users' bridge keys not installed"
    return 0
  }
  if bridge_keys_current; then
    log "bridge keys of ${DEMO_USERS[*]} already installed"
    return 0
  fi
  install -d -m 700 "$BRIDGE_KEYS_DIR"
  rm -f "$BRIDGE_KEYS_DIR/hub.pid"
  for name in "${DEMO_USERS[@]}"; do
    pub="$BRIDGE_KEYS_DIR/$name.pub"
    bridge_user_key "$name" >"$pub"
    authorize_key "$name" "$pub"
  done
  daemon_pid jupyterhub >"$BRIDGE_KEYS_DIR/hub.pid" || true
  log "bridge keys installed for ${DEMO_USERS[*]}"
}
