# shellcheck shell=bash
# Last step of stack/up: installs each demo user's bridge-generated SSH public keys (one per
# cluster: demo and demo2 share the machine and the accounts), exactly as a user would by
# hand: ask the bridge for the key (GET …/credentials/ssh?cluster=… with a token of the
# user) and append it to ~/.ssh/authorized_keys.

BRIDGE_CLUSTERS=(demo demo2)

# bridge_user_key USER CLUSTER: prints USER's public key for CLUSTER.
bridge_user_key() {
  local user=$1 cluster=$2 admin_token token
  admin_token="$(<"$STACK_DIR/admin.token")"
  token="$(curl -sf -m 10 -X POST -H "Authorization: token $admin_token" \
    -H 'Content-Type: application/json' \
    -d '{"note": "stack/up: install the bridge key", "expires_in": 300}' \
    "http://127.0.0.1:8081/hub/api/users/$user/tokens" |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')" ||
    die "cannot create a hub token for $user"
  curl -sf -m 30 -H "Authorization: token $token" \
    "http://127.0.0.1:8000/services/hpc-bridge/api/v1/credentials/ssh?cluster=$cluster" |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["publicKey"])' ||
    die "the bridge did not give a key for $user on $cluster (see $LOG_DIR/bridge.log)"
}

# The keys asked for last time, BRIDGE_KEYS_DIR/USER.pub (demo) and USER-CLUSTER.pub (the
# others), and the pid of the hub that gave
# them (BRIDGE_KEYS_DIR/hub.pid): while that hub runs and every key is still authorized,
# asking again (a hub token and a bridge call per user, ~2 s in all) would change nothing.
BRIDGE_KEYS_DIR="$STACK_DIR/bridge/keys"

# bridge_key_file USER CLUSTER
bridge_key_file() {
  if [[ $2 == demo ]]; then
    printf '%s/%s.pub' "$BRIDGE_KEYS_DIR" "$1"
  else
    printf '%s/%s-%s.pub' "$BRIDGE_KEYS_DIR" "$1" "$2"
  fi
}

bridge_keys_current() {
  local name home cluster pub
  [[ -f $BRIDGE_KEYS_DIR/hub.pid && $(<"$BRIDGE_KEYS_DIR/hub.pid") == "$(daemon_pid jupyterhub)" ]] ||
    return 1
  for name in "${DEMO_USERS[@]}"; do
    home="$(getent passwd "$name" | cut -d: -f6)"
    for cluster in "${BRIDGE_CLUSTERS[@]}"; do
      pub="$(bridge_key_file "$name" "$cluster")"
      [[ -s $pub ]] && grep -qxF "$(<"$pub")" "$home/.ssh/authorized_keys" 2>/dev/null ||
        return 1
    done
  done
}

install_bridge_keys() {
  local name cluster pub
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
    for cluster in "${BRIDGE_CLUSTERS[@]}"; do
      pub="$(bridge_key_file "$name" "$cluster")"
      bridge_user_key "$name" "$cluster" >"$pub"
      authorize_key "$name" "$pub"
    done
  done
  daemon_pid jupyterhub >"$BRIDGE_KEYS_DIR/hub.pid" || true
  log "bridge keys installed for ${DEMO_USERS[*]}"
}
