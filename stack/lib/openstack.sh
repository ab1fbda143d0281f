# shellcheck shell=bash
# Optional: a real OpenStack control plane (Debian's Zed) on loopback, for the `openstack`
# serving provider. RabbitMQ, Keystone :5000 and Placement :8778 (uwsgi), Glance :9292,
# Neutron :9696 (ML2 without agents), Nova api :8774 + conductor + scheduler + compute with
# the fake GPU hypervisor of stack/openstack/python. Databases live in the stack's MariaDB.
# Asked for with `stack/up --with-openstack` (or HPC_STACK_OPENSTACK=1); the marker file
# OS_MARKER keeps it on for later runs of stack/up. See docs/openstack-stack.md.

OS_DIR="$STACK_DIR/openstack"
OS_ETC="$OS_DIR/etc"
OS_MARKER="$OS_DIR/enabled"
OS_SRC="$REPO_ROOT/stack/openstack"
OS_PYTHONPATH="$OS_SRC/python"
# Console scripts and paste files from the service packages, unpacked (no init scripts).
OS_CACHE=/var/cache/hpc-bridge/openstack
OS_ROOT="$OS_CACHE/root"
OS_GUEST_USER=hpcb-guest
OS_BRIDGE=hpcb-cloud
OS_BRIDGE_ADDRESS=10.77.0.1/24
OS_VGPUS=${HPC_OPENSTACK_VGPUS:-2}
OS_COMPUTE_HOST=hpcb-compute1

OS_APT_PACKAGES=(python3-keystone python3-nova python3-glance python3-placement python3-neutron
  rabbitmq-server uwsgi-core uwsgi-plugin-python3)
OS_DEB_PACKAGES=(nova-common nova-api nova-compute nova-conductor nova-scheduler glance-common
  glance-api keystone placement-api neutron-common neutron-server)
# DB user: its databases. Each user's password (OS_DIR/secrets/USER.secret) is also the
# password of the Keystone service user of the same name.
# shellcheck disable=SC2054 # the commas separate databases inside one element
OS_DATABASES=(keystone:keystone placement:placement glance:glance neutron:neutron
  nova:nova_api,nova,nova_cell0)
# Start order; stop_openstack walks it backwards.
OS_DAEMONS=(epmd rabbitmq keystone placement glance-api neutron-server
  nova-api nova-conductor nova-scheduler nova-compute)

openstack_wanted() { [[ ${HPC_STACK_OPENSTACK:-0} == 1 || -f $OS_MARKER ]]; }

# ---- install -------------------------------------------------------------------------------

install_openstack() {
  local missing=() pkg
  for pkg in "${OS_APT_PACKAGES[@]}"; do
    package_installed "$pkg" || missing+=("$pkg")
  done
  if ((${#missing[@]} > 0)); then
    block_service_autostart
    log "openstack: apt installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
      --no-install-recommends "${missing[@]}"
  fi
  unpack_service_packages
}

download_debs() {
  (cd "$1" && apt-get -q download "${OS_DEB_PACKAGES[@]}") >>"$LOG_DIR/openstack-download.log" 2>&1
}

# The service packages' console scripts and paste files, unpacked under OS_ROOT once per
# Debian version of nova (installing the packages would run their debconf and init scripts).
unpack_service_packages() {
  local version stamp="$OS_ROOT/.version" work deb
  version="$(dpkg-query -W -f='${Version}' python3-nova)"
  [[ -f $stamp && $(<"$stamp") == "$version" ]] && return
  log "openstack: unpacking ${OS_DEB_PACKAGES[*]} into $OS_ROOT"
  work="$(mktemp -d "${TMPDIR:-/tmp}/hpcb-os-debs.XXXXXX")"
  chmod 755 "$work"
  if ! download_debs "$work"; then
    # The package lists may be missing or stale when the libraries were installed long ago.
    apt-get update -q >>"$LOG_DIR/openstack-download.log" 2>&1 || true
    download_debs "$work" || {
      rm -rf "$work"
      die "apt-get download of the OpenStack service packages failed (see $LOG_DIR/openstack-download.log)"
    }
  fi
  rm -rf "$OS_ROOT.new"
  mkdir -p "$OS_ROOT.new"
  for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$OS_ROOT.new"
  done
  rm -rf "$work" "$OS_ROOT"
  mv "$OS_ROOT.new" "$OS_ROOT"
  printf '%s\n' "$version" >"$stamp"
}

# ---- host side of the fake hypervisor --------------------------------------------------------

setup_openstack_host() {
  id "$OS_GUEST_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$OS_GUEST_USER"
  # The instances' gateway: their veths are enslaved here, and the host reaches their IPs.
  ip link show "$OS_BRIDGE" >/dev/null 2>&1 || ip link add "$OS_BRIDGE" type bridge
  ip -4 addr show dev "$OS_BRIDGE" | grep -q "inet $OS_BRIDGE_ADDRESS " ||
    ip addr add "$OS_BRIDGE_ADDRESS" dev "$OS_BRIDGE"
  ip link set "$OS_BRIDGE" up
  install -d -m 755 "$OS_DIR" "$OS_DIR/instances"
}

# Ends every guest process and removes every hpcb-* namespace (their veths go with them).
remove_guests() {
  local namespace pid
  while read -r namespace _; do
    [[ $namespace == hpcb-* ]] || continue
    for pid in $(ip netns pids "$namespace" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns delete "$namespace" 2>/dev/null || true
    log "openstack: guest namespace $namespace removed"
  done < <(ip netns list 2>/dev/null)
}

# ---- configuration -------------------------------------------------------------------------

os_secret() { printf '%s' "$(<"$OS_DIR/secrets/$1.secret")"; }

write_openstack_secrets() {
  install -d -m 700 "$OS_DIR/secrets"
  local entry
  for entry in "${OS_DATABASES[@]}" admin:- rabbit:-; do
    ensure_secret "$OS_DIR/secrets/${entry%%:*}.secret"
  done
  ensure_secret "$OS_DIR/bridge.password"
}

ensure_openstack_databases() {
  local entry user databases db pass sql=""
  for entry in "${OS_DATABASES[@]}"; do
    user=${entry%%:*}
    databases=${entry#*:}
    pass="$(os_secret "$user")"
    sql+="CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$pass';"$'\n'
    sql+="ALTER USER '$user'@'127.0.0.1' IDENTIFIED BY '$pass';"$'\n'
    for db in ${databases//,/ }; do
      sql+="CREATE DATABASE IF NOT EXISTS $db CHARACTER SET utf8mb4;"$'\n'
      sql+="GRANT ALL PRIVILEGES ON $db.* TO '$user'@'127.0.0.1';"$'\n'
    done
  done
  mariadb_sql <<<"$sql"
}

# render_os_config TEMPLATE DEST DAEMON...: renders, and stops the running DAEMONs when the
# result changed so that they start again with it.
render_os_config() {
  local template=$1 dest=$2 before daemon
  shift 2
  before="$(file_digest "$dest")"
  render "$OS_SRC/conf/$template" "$dest" 600
  if [[ $(file_digest "$dest") != "$before" && -n $before ]]; then
    for daemon in "$@"; do
      if daemon_alive "$daemon"; then
        log "openstack: restarting $daemon for its changed configuration"
        stop_daemon "$daemon"
      fi
    done
  fi
}

# shellcheck disable=SC2034 # the PASS_* locals are read by render (the templates' @NAME@)
write_openstack_configs() {
  install -d -m 700 "$OS_ETC" "$OS_ETC/placement"
  install -d -m 755 "$OS_DIR/keystone" "$OS_DIR/glance" "$OS_DIR/glance/images" "$OS_DIR/neutron" \
    "$OS_DIR/nova" "$OS_DIR/glance/lock" "$OS_DIR/neutron/lock" "$OS_DIR/nova/lock"
  install -d -o rabbitmq -g rabbitmq -m 750 "$OS_DIR/rabbitmq"
  local PASS_KEYSTONE PASS_PLACEMENT PASS_GLANCE PASS_NEUTRON PASS_NOVA RABBIT_PASS
  PASS_KEYSTONE="$(os_secret keystone)"
  PASS_PLACEMENT="$(os_secret placement)"
  PASS_GLANCE="$(os_secret glance)"
  PASS_NEUTRON="$(os_secret neutron)"
  PASS_NOVA="$(os_secret nova)"
  RABBIT_PASS="$(os_secret rabbit)"
  render_os_config keystone.conf "$OS_ETC/keystone.conf" keystone
  render_os_config keystone-uwsgi.ini "$OS_ETC/keystone-uwsgi.ini" keystone
  render_os_config placement.conf "$OS_ETC/placement/placement.conf" placement
  render_os_config placement-uwsgi.ini "$OS_ETC/placement-uwsgi.ini" placement
  render_os_config glance-api.conf "$OS_ETC/glance-api.conf" glance-api
  render_os_config neutron.conf "$OS_ETC/neutron.conf" neutron-server
  render_os_config nova.conf "$OS_ETC/nova.conf" nova-api nova-conductor nova-scheduler
  write_compute_config
  render_os_config rabbitmq.conf "$OS_ETC/rabbitmq.conf" rabbitmq
  chown rabbitmq "$OS_ETC/rabbitmq.conf"
  chmod 711 "$OS_ETC"
  printf '[].\n' >"$OS_DIR/rabbitmq/enabled_plugins"
}

# nova-compute reaches the databases only through the conductor: its copy of nova.conf has
# no database connections (with them it tries to read the API database, and logs errors).
write_compute_config() {
  local dest="$OS_ETC/nova-compute.conf" before
  before="$(file_digest "$dest")"
  grep -v '^connection = ' "$OS_ETC/nova.conf" >"$dest.tmp"
  chmod 600 "$dest.tmp"
  mv -f "$dest.tmp" "$dest"
  if [[ -n $before && $(file_digest "$dest") != "$before" ]] && daemon_alive nova-compute; then
    log "openstack: restarting nova-compute for its changed configuration"
    stop_daemon nova-compute
  fi
}

# ---- schema (once per package version) -------------------------------------------------------

os_python() { env PATH="$SYSTEM_PATH" PYTHONPATH="$OS_PYTHONPATH" /usr/bin/python3 "$@"; }
os_script() {
  local name=$1
  shift
  if [[ -x /usr/bin/$name ]]; then
    os_python "/usr/bin/$name" "$@"
  else
    os_python "$OS_ROOT/usr/bin/$name" "$@"
  fi
}

# run_setup LABEL CMD...: runs a setup command with its output in openstack-setup.log.
run_setup() {
  local label=$1
  shift
  printf '\n==== %s %s\n' "$label" "$(date -Is)" >>"$(log_file openstack-setup)"
  "$@" >>"$(log_file openstack-setup)" 2>&1 || {
    tail -n 30 "$(log_file openstack-setup)" >&2
    die "openstack: $label failed (see $(log_file openstack-setup))"
  }
}

# schema_current SERVICE: whether SERVICE's schema was synced for the installed version.
schema_current() {
  [[ -f $OS_DIR/schema.$1 && $(<"$OS_DIR/schema.$1") == "$(dpkg-query -W -f='${Version}' "python3-$1")" ]]
}
mark_schema() { dpkg-query -W -f='${Version}' "python3-$1" >"$OS_DIR/schema.$1"; }

sync_keystone() {
  local conf=(--config-file "$OS_ETC/keystone.conf")
  if ! schema_current keystone; then
    run_setup "keystone db_sync" os_script keystone-manage "${conf[@]}" db_sync
    mark_schema keystone
  fi
  [[ -d $OS_DIR/keystone/fernet-keys ]] ||
    run_setup "keystone fernet_setup" os_script keystone-manage "${conf[@]}" fernet_setup \
      --keystone-user root --keystone-group root
  [[ -d $OS_DIR/keystone/credential-keys ]] ||
    run_setup "keystone credential_setup" os_script keystone-manage "${conf[@]}" credential_setup \
      --keystone-user root --keystone-group root
}

bootstrap_keystone() {
  [[ -f $OS_DIR/bootstrapped ]] && return
  # The password goes by environment, not on the command line.
  OS_BOOTSTRAP_PASSWORD="$(os_secret admin)" run_setup "keystone bootstrap" \
    os_script keystone-manage --config-file "$OS_ETC/keystone.conf" bootstrap \
    --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
    --bootstrap-admin-url http://127.0.0.1:5000/v3/ \
    --bootstrap-internal-url http://127.0.0.1:5000/v3/ \
    --bootstrap-public-url http://127.0.0.1:5000/v3/ \
    --bootstrap-region-id RegionOne
  touch "$OS_DIR/bootstrapped"
}

sync_placement() {
  schema_current placement && return
  run_setup "placement db sync" \
    os_script placement-manage --config-file "$OS_ETC/placement/placement.conf" db sync
  mark_schema placement
}

sync_glance() {
  schema_current glance && return
  run_setup "glance db_sync" os_script glance-manage --config-file "$OS_ETC/glance-api.conf" db_sync
  mark_schema glance
}

sync_neutron() {
  schema_current neutron && return
  run_setup "neutron upgrade heads" os_script neutron-db-manage \
    --config-file "$OS_ETC/neutron.conf" upgrade heads
  mark_schema neutron
}

sync_nova() {
  schema_current nova && return
  local conf=(--config-file "$OS_ETC/nova.conf")
  run_setup "nova api_db sync" os_script nova-manage "${conf[@]}" api_db sync
  run_setup "nova map_cell0" os_script nova-manage "${conf[@]}" cell_v2 map_cell0
  if ! os_script nova-manage "${conf[@]}" cell_v2 list_cells 2>/dev/null | grep -q ' cell1 '; then
    run_setup "nova create_cell" os_script nova-manage "${conf[@]}" cell_v2 create_cell --name cell1
  fi
  run_setup "nova db sync" os_script nova-manage "${conf[@]}" db sync
  mark_schema nova
}

# ---- daemons -------------------------------------------------------------------------------

rabbitmq_ok() { port_open 127.0.0.1 5672; }
keystone_ok() { http_ok http://127.0.0.1:5000/v3; }
placement_ok() { http_ok http://127.0.0.1:8778/; }
glance_ok() { http_ok http://127.0.0.1:9292/versions; }
neutron_ok() { http_ok http://127.0.0.1:9696/; }
nova_api_ok() { http_ok http://127.0.0.1:8774/v2.1/; }
os_count() { mariadb_sql -N -e "SELECT COUNT(*) FROM $1"; }

# nova-compute reported in since SINCE (a UTC timestamp of MariaDB), its host is mapped to
# cell1 (the scheduler discovers it every 2 s) and its GPU provider is in Placement.
compute_ready() {
  local host=$OS_COMPUTE_HOST
  [[ $(os_count "nova.services WHERE host='$host' AND \`binary\`='nova-compute'
        AND deleted=0 AND updated_at >= '$1'") == 1 ]] &&
    [[ $(os_count "nova_api.host_mappings WHERE host='$host'") == 1 ]] &&
    [[ $(os_count "placement.resource_providers WHERE name='${host}_gpus'") == 1 ]]
}

start_rabbitmq() {
  local home
  home="$(getent passwd rabbitmq | cut -d: -f6)"
  start_daemon epmd setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
    /usr/bin/epmd -address 127.0.0.1 -port 4369 || true
  wait_until epmd 20 port_open 127.0.0.1 4369
  start_daemon rabbitmq setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
    env HOME="$home" RABBITMQ_NODENAME=rabbit@localhost \
    RABBITMQ_CONFIG_FILE="$OS_ETC/rabbitmq.conf" \
    RABBITMQ_MNESIA_BASE="$OS_DIR/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$OS_DIR/rabbitmq" \
    RABBITMQ_LOGS=- RABBITMQ_ENABLED_PLUGINS_FILE="$OS_DIR/rabbitmq/enabled_plugins" \
    RABBITMQ_PID_FILE="$OS_DIR/rabbitmq/rabbitmq.pid" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    /usr/lib/rabbitmq/bin/rabbitmq-server || true
}

# start_openstack_daemon NAME CMD...: returns 1 when NAME was running already.
start_openstack_daemon() {
  local name=$1
  shift
  start_daemon "$name" env PYTHONPATH="$OS_PYTHONPATH" HPCB_INSTANCES_DIR="$OS_DIR/instances" \
    HPCB_CLOUD_BRIDGE="$OS_BRIDGE" HPCB_GUEST_USER="$OS_GUEST_USER" HPCB_FAKE_VGPUS="$OS_VGPUS" \
    "$@"
}

start_openstack() {
  openstack_wanted || return 0
  install -d -m 755 "$OS_DIR"
  touch "$OS_MARKER"
  setup_openstack_host
  write_openstack_secrets
  ensure_openstack_databases
  write_openstack_configs

  start_rabbitmq
  sync_keystone
  start_openstack_daemon keystone /usr/bin/uwsgi --ini "$OS_ETC/keystone-uwsgi.ini" || true
  sync_placement
  start_openstack_daemon placement /usr/bin/uwsgi --ini "$OS_ETC/placement-uwsgi.ini" || true
  sync_glance
  start_openstack_daemon glance-api /usr/bin/python3 "$OS_ROOT/usr/bin/glance-api" \
    --config-file "$OS_ETC/glance-api.conf" || true
  sync_neutron
  sync_nova
  wait_until rabbitmq 90 rabbitmq_ok
  start_openstack_daemon neutron-server /usr/bin/python3 "$OS_ROOT/usr/bin/neutron-server" \
    --config-file "$OS_ETC/neutron.conf" || true
  start_nova nova-api || true

  wait_until keystone 60 keystone_ok
  bootstrap_keystone
  wait_until placement 60 placement_ok
  wait_until glance-api 60 glance_ok
  wait_until neutron-server 90 neutron_ok
  wait_until nova-api 90 nova_api_ok
  # The other Nova services authenticate at start: they need the seeded service users.
  seed_openstack
  start_nova nova-conductor || true
  start_nova nova-scheduler || true
  local since
  since="$(mariadb_sql -N -e 'SELECT UTC_TIMESTAMP()')"
  if start_nova nova-compute; then
    wait_until nova-compute 120 compute_ready "$since"
  fi
}

# start_nova NAME: returns 1 when NAME was running already.
start_nova() {
  local config_file="$OS_ETC/nova.conf"
  [[ $1 == nova-compute ]] && config_file="$OS_ETC/nova-compute.conf"
  start_openstack_daemon "$1" /usr/bin/python3 "$OS_ROOT/usr/bin/$1" --config-file "$config_file"
}

# Regions, catalog, projects, users, the bridge's application credential, flavors, image,
# network, security group, quotas. Idempotent; see stack/openstack/seed.py.
seed_openstack() {
  run_setup seed os_python "$OS_SRC/seed.py" "$OS_DIR"
}

stop_openstack() {
  local i
  for ((i = ${#OS_DAEMONS[@]} - 1; i >= 0; i--)); do
    stop_daemon "${OS_DAEMONS[i]}"
  done
  remove_guests
}

cloud_bridge_ok() { ip -4 addr show dev "$OS_BRIDGE" up | grep -q "inet $OS_BRIDGE_ADDRESS "; }
