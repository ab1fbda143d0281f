# shellcheck shell=bash
# JupyterHub (Debian) with the npm configurable-http-proxy and the bridge as a hub service.

HUB_DIR="$STACK_DIR/hub"
BRIDGE_DIR="$STACK_DIR/bridge"

write_hub_secrets() {
  install -d -m 700 "$HUB_DIR" "$BRIDGE_DIR"
  ensure_secret "$HUB_DIR/proxy.token"
  ensure_secret "$BRIDGE_DIR/hub-api.token"
  ensure_secret "$BRIDGE_DIR/secret.key"
  ensure_secret "$STACK_DIR/admin.token"
  # The demo cloud's provider only when the stack runs OpenStack (it has seeded the
  # application credential the fragment reads by then: start_openstack comes first).
  local OPENSTACK_PROVIDER=
  # Its credential exists once the cloud is seeded: a hub restarted while the cloud is still
  # starting (npm test starts it beside the fault suite) keeps the bridge's config valid.
  if declare -F openstack_wanted >/dev/null && openstack_wanted &&
    [[ -s $OS_DIR/appcred.id && -s $OS_DIR/appcred.secret ]]; then
    render "$STACK_CONF/bridge-openstack.yaml" "$BRIDGE_DIR/openstack-provider.yaml" 600
    # shellcheck disable=SC2034 # render reads it through ${!name}
    OPENSTACK_PROVIDER=$'\n'"$(<"$BRIDGE_DIR/openstack-provider.yaml")"
  fi
  local BRIDGE_STORE
  # shellcheck disable=SC2034 # render reads it through ${!name}
  BRIDGE_STORE="$(bridge_store_setting)"
  render "$STACK_CONF/bridge-config.yaml" "$BRIDGE_DIR/config.yaml" 600
}

# Both are read once at start: the hub's groups and services, the bridge's tiers and clusters.
hub_config_digest() {
  { cat "$REPO_ROOT/stack/hub/jupyterhub_config.py" "$BRIDGE_DIR/config.yaml"; replica_count; } |
    sha256sum | cut -d' ' -f1
}

hub_ok() { http_ok http://127.0.0.1:8081/hub/api/; }
proxy_ok() { http_ok http://127.0.0.1:8000/hub/api/; }
# /api/v1/version is the bridge's one public route.
bridge_ok() { http_ok http://127.0.0.1:8765/services/hpc-bridge/api/v1/version; }

start_hub() {
  write_hub_secrets
  # Back to one replica: the balancer must free :8765 for the hub-managed bridge.
  (($(replica_count) > 1)) || stop_replicas 0
  [[ -f $REPO_ROOT/server-bridge/lib/main.js ]] ||
    warn "server-bridge/lib/main.js is missing: the hub starts, the hpc-bridge service will fail"
  # cwd = HUB_DIR: JupyterHub writes jupyterhub-proxy.pid and friends next to itself.
  if ((STACK_REBUILT)) && daemon_alive jupyterhub; then
    log "jupyterhub: restarting so that the bridge and new servers use the new build"
    stop_daemon jupyterhub
  elif [[ $(hub_config_digest) != "$(cat "$HUB_DIR/config.digest" 2>/dev/null)" ]] &&
    daemon_alive jupyterhub; then
    log "jupyterhub: restarting for its or the bridge's changed configuration"
    stop_daemon jupyterhub
  fi
  if ! daemon_alive jupyterhub; then
    # Children of a hub that was killed: the new hub cannot start its own while they hold the ports.
    stop_daemon bridge
    stop_daemon configurable-http-proxy
  fi
  hub_config_digest >"$HUB_DIR/config.digest"
  # The proxy token goes through the environment, not argv (argv is world-readable in /proc).
  CONFIGPROXY_AUTH_TOKEN="$(<"$HUB_DIR/proxy.token")" HPC_LAB_RUNTIME="$LAB_RUNTIME" \
    HPC_STACK_REPLICAS="$(replica_count)" \
    start_daemon jupyterhub env -C "$HUB_DIR" \
    /usr/bin/jupyterhub -f "$REPO_ROOT/stack/hub/jupyterhub_config.py" || true
  wait_until jupyterhub 60 hub_ok
  wait_until jupyterhub 30 proxy_ok
  if (($(replica_count) > 1)); then
    # The replicas and the balancer, not the hub, run the bridge (a rebuilt one: restarted).
    if ((STACK_REBUILT)); then
      stop_replicas 0
    fi
    stop_replicas "$(replica_count)"
    stop_daemon bridge
    start_replicas
  elif [[ -f $REPO_ROOT/server-bridge/lib/main.js ]]; then
    wait_until bridge 30 bridge_ok
  fi
}

# The bridge's `local` serving replicas are process groups of their own that outlive the
# bridge (a restarted bridge adopts them). stack/down ends them: each has BRIDGE_DIR/
# serving-local/REPLICA.json with its pid and program (a reused pid is left alone).
stop_local_replicas() {
  local file pid program argv0
  for file in "$BRIDGE_DIR"/serving-local/*.json; do
    [[ -f $file ]] || continue
    read -r pid program < <(node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      console.log(r.pid, r.program);' "$file" 2>/dev/null) || continue
    [[ $pid =~ ^[0-9]+$ ]] || continue
    argv0="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 1)" || true
    if [[ $argv0 == "$program" ]]; then
      kill -TERM -- "-$pid" 2>/dev/null || true
      log "serving: stopped local replica $(basename "$file" .json) (pid $pid)"
    fi
  done
}
