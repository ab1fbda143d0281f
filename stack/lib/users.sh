# shellcheck shell=bash
# Step 5 of stack/up: Unix users, the course group, SSH keys.

ensure_unix_user() {
  local name=$1
  if ! id "$name" >/dev/null 2>&1; then
    useradd -m -s /bin/bash "$name"
    log "user $name created"
  fi
  # Homes hold notebooks and keys: private to their owner (Debian's default is 755).
  chmod 700 "$(getent passwd "$name" | cut -d: -f6)"
  # useradd leaves the account locked ('!'), and sshd refuses locked accounts even for keys.
  if [[ $(getent shadow "$name" | cut -d: -f2) != '*' ]]; then
    usermod -p '*' "$name"
  fi
}

# authorize_key USER PUBKEY_FILE: adds the key to ~USER/.ssh/authorized_keys once.
authorize_key() {
  local user=$1 pub=$2 home ssh_dir auth
  home="$(getent passwd "$user" | cut -d: -f6)"
  ssh_dir="$home/.ssh"
  auth="$ssh_dir/authorized_keys"
  install -d -m 700 -o "$user" -g "$user" "$ssh_dir"
  touch "$auth"
  grep -qxF "$(<"$pub")" "$auth" || cat "$pub" >>"$auth"
  chown "$user:$user" "$auth"
  chmod 600 "$auth"
}

ensure_key() {
  local key=$1 comment=$2
  mkdir -p "$(dirname "$key")"
  [[ -f $key ]] || ssh-keygen -q -t ed25519 -N '' -C "$comment" -f "$key"
  chmod 600 "$key"
}

setup_users() {
  local name
  for name in "${DEMO_USERS[@]}" "$BRIDGE_UNIX_USER"; do
    ensure_unix_user "$name"
  done
  # No login, no home: a system account that only runs local model replicas.
  id "$SERVE_UNIX_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin "$SERVE_UNIX_USER"
  getent group "$COURSE_GROUP" >/dev/null || groupadd "$COURSE_GROUP"
  for name in "${COURSE_MEMBERS[@]}"; do
    id -nG "$name" | tr ' ' '\n' | grep -qx "$COURSE_GROUP" || usermod -aG "$COURSE_GROUP" "$name"
  done

  ensure_key "$STACK_DIR/bridge/service_ed25519" "hpc-bridge service"
  authorize_key "$BRIDGE_UNIX_USER" "$STACK_DIR/bridge/service_ed25519.pub"
  for name in "${COURSE_MEMBERS[@]}"; do
    ensure_key "$STACK_DIR/ssh/users/${name}_ed25519" "$name demo key"
    authorize_key "$name" "$STACK_DIR/ssh/users/${name}_ed25519.pub"
  done
  setup_scratch
  log "users: ${DEMO_USERS[*]} $BRIDGE_UNIX_USER $SERVE_UNIX_USER (group $COURSE_GROUP: ${COURSE_MEMBERS[*]})"
}

# The cluster's scratch space (the `scratch` storage tier): /scratch/USER, private to USER.
SCRATCH_ROOT=/scratch

setup_scratch() {
  local name
  install -d -m 755 -o root -g root "$SCRATCH_ROOT"
  for name in "${DEMO_USERS[@]}"; do
    install -d -m 700 -o "$name" -g "$name" "$SCRATCH_ROOT/$name"
  done
}

scratch_ok() {
  local name
  for name in "${DEMO_USERS[@]}"; do
    [[ $(stat -c '%U %a' "$SCRATCH_ROOT/$name") == "$name 700" ]] || return 1
  done
}
