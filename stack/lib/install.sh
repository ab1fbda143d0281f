# shellcheck shell=bash
# Steps 1-4 of stack/up: Debian packages, npm packages, the build, the lab runtime.

APT_PACKAGES=(
  munge slurmctld slurmd slurm-client slurmdbd mariadb-server
  openssh-server openssh-client
  swift swift-proxy swift-account swift-container swift-object memcached
  jupyterhub python3-jupyter-server python3-jupyterlab-server python3-ipykernel
  jupyter-nbconvert python3-nbclient
  chromium curl ca-certificates util-linux procps
  cmake g++ git # llama-server (stack/lib/llama.sh)
)

package_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]]
}

# The packages of APT_PACKAGES that are not installed, one a line: one dpkg-query for all
# (a query each cost ~0.5 s on every stack/up).
missing_packages() {
  local installed
  installed="$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${APT_PACKAGES[@]}" 2>/dev/null |
    awk '$1 ~ /^ii/ { sub(/:.*/, "", $2); print $2 }')" || true
  printf '%s\n' "${APT_PACKAGES[@]}" | grep -vxF -f <(printf '%s\n' "$installed") || true
}

install_packages() {
  local missing=()
  mapfile -t missing < <(missing_packages)
  command -v node >/dev/null || die "node (20) is not installed: install nodejs from NodeSource first"
  if ((${#missing[@]} == 0)); then
    log "apt: all ${#APT_PACKAGES[@]} packages present"
    return
  fi
  block_service_autostart
  log "apt: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}"
}

# Package scripts must not start their daemons: the stack starts its own.
block_service_autostart() {
  if [[ ! -f /usr/sbin/policy-rc.d ]] || ! grep -qx 'exit 101' /usr/sbin/policy-rc.d; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
  fi
}

install_npm() {
  if [[ ! -d $REPO_ROOT/node_modules ]]; then
    log "npm: npm ci"
    (cd "$REPO_ROOT" && flock /tmp/npm.lock npm ci --no-audit --no-fund)
  fi
  [[ -x $REPO_ROOT/node_modules/.bin/configurable-http-proxy ]] ||
    die "node_modules/.bin/configurable-http-proxy is missing: run 'npm ci' at $REPO_ROOT"
}

STACK_REBUILT=0

build_project() {
  local outputs=(
    "$REPO_ROOT/server-bridge/lib/main.js"
    "$REPO_ROOT/stack/lab/build"
    "$REPO_ROOT/jupyterlab_hpc_bridge/labextension/package.json"
  )
  local missing=0 path
  for path in "${outputs[@]}"; do
    [[ -e $path ]] || missing=1
  done
  if [[ ${HPC_STACK_REBUILD:-0} != 1 ]] && ((missing == 0)); then
    log "build: up to date (HPC_STACK_REBUILD=1 forces npm run build)"
    return
  fi
  log "build: npm run build"
  if (cd "$REPO_ROOT" && npm run build >"$LOG_DIR/build.log" 2>&1); then
    STACK_REBUILT=1
  else
    warn "npm run build failed (see $LOG_DIR/build.log); the stack starts without the missing pieces"
    tail -n 15 "$LOG_DIR/build.log" >&2 || true
  fi
}

# The single-user servers run as the demo users, who cannot read a repo under /root or /work
# in general: they get a world-readable copy.
install_lab_runtime() {
  local dest=$LAB_RUNTIME digest
  # Names, sizes and times of the sources: unchanged, the copy is already there.
  digest="$(lab_sources_digest)"
  if [[ -f $dest/.sources.digest && $(<"$dest/.sources.digest") == "$digest" ]]; then
    log "lab runtime: up to date in $dest"
    return
  fi
  mkdir -p "$dest"
  copy_tree "$REPO_ROOT/stack/lab/hpc_bridge_lab" "$dest/hpc_bridge_lab"
  copy_tree "$REPO_ROOT/stack/lab/build" "$dest/build"
  copy_tree "$REPO_ROOT/stack/lab/settings" "$dest/settings"
  copy_tree "$REPO_ROOT/jupyterlab_hpc_bridge/labextension" "$dest/labextensions/jupyterlab-hpc-bridge"
  install -m 644 "$REPO_ROOT/stack/lab/singleuser_config.py" "$dest/singleuser_config.py"
  # The cluster kernel launcher and its one dependency (ws, which has none).
  copy_tree "$REPO_ROOT/stack/lab/cluster-kernel" "$dest/cluster-kernel"
  copy_tree "$REPO_ROOT/node_modules/ws" "$dest/cluster-kernel/node_modules/ws"
  chmod -R a+rX /opt/hpc-bridge
  printf '%s\n' "$digest" >"$dest/.sources.digest"
}

LAB_SOURCES=(stack/lab/hpc_bridge_lab stack/lab/build stack/lab/settings
  jupyterlab_hpc_bridge/labextension stack/lab/singleuser_config.py
  stack/lab/cluster-kernel)

lab_sources_digest() {
  (cd "$REPO_ROOT" && find "${LAB_SOURCES[@]}" -name __pycache__ -prune -o \
    -printf '%p %s %T@\n' 2>/dev/null) | sha256sum | cut -d' ' -f1
}

copy_tree() {
  local src=$1 dest=$2
  if [[ ! -d $src ]]; then
    warn "lab runtime: $src is missing (not built yet?)"
    return
  fi
  rm -rf "$dest.new"
  mkdir -p "$(dirname "$dest")"
  cp -r "$src" "$dest.new"
  find "$dest.new" -name __pycache__ -prune -exec rm -rf {} +
  rm -rf "$dest"
  mv "$dest.new" "$dest"
}
