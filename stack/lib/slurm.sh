# shellcheck shell=bash
# munge, MariaDB, slurmdbd, slurmctld, slurmd and the accounting associations.

MARIADB_DIR="$STACK_DIR/mariadb"
MARIADB_SOCKET="$MARIADB_DIR/mariadbd.sock"
SLURM_DIR="$STACK_DIR/slurm"
SLURM_ACCOUNTS=(ml101:alice,bob,carol staff:admin,hpcbridge)

munge_ok() { munge -n </dev/null | unmunge >/dev/null; }

start_munge() {
  if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey -c -k /etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
  start_daemon munge setpriv --reuid=munge --regid=munge --init-groups \
    /usr/sbin/munged --foreground || true
  wait_until munge 20 munge_ok
}

mariadb_sql() { mariadb --no-defaults --socket="$MARIADB_SOCKET" -u root "$@"; }

start_mariadb() {
  mkdir -p "$MARIADB_DIR"
  chown mysql:mysql "$MARIADB_DIR"
  if [[ ! -d $MARIADB_DIR/data/mysql ]]; then
    log "mariadb: initialising $MARIADB_DIR/data"
    mariadb-install-db --no-defaults --datadir="$MARIADB_DIR/data" --user=mysql \
      --auth-root-authentication-method=socket --skip-test-db >"$(log_file mariadb-install)" 2>&1 ||
      {
        tail -n 30 "$(log_file mariadb-install)" >&2
        die "mariadb-install-db failed"
      }
  fi
  start_daemon mariadb /usr/sbin/mariadbd --no-defaults --user=mysql \
    --datadir="$MARIADB_DIR/data" --socket="$MARIADB_SOCKET" \
    --port=3307 --bind-address=127.0.0.1 --skip-name-resolve \
    --pid-file="$MARIADB_DIR/mariadbd.pid" \
    --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900 --performance-schema=OFF || true
  wait_until mariadb 60 mariadb_sql -e 'SELECT 1'

  ensure_secret "$SLURM_DIR/db.secret"
  local pass
  pass="$(<"$SLURM_DIR/db.secret")"
  mariadb_sql <<SQL
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
GRANT ALL PRIVILEGES ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL
}

write_slurm_config() {
  install -d -o slurm -g slurm -m 755 "$SLURM_DIR" "$SLURM_DIR/state" "$SLURM_DIR/run"
  install -d -m 755 "$SLURM_DIR/spool" "$SLURM_DIR/dev" /etc/slurm
  local i
  for i in 0 1; do
    # Major 1 minor 3 is /dev/null: a harmless character device to stand for a GPU.
    [[ -c $SLURM_DIR/dev/fakegpu$i ]] || mknod -m 666 "$SLURM_DIR/dev/fakegpu$i" c 1 3
  done
  touch "$SLURM_DIR/jobcomp.log"
  chown slurm:slurm "$SLURM_DIR/jobcomp.log"

  NODE_CPUS="$(nproc)"
  SLURM_DB_PASS="$(<"$SLURM_DIR/db.secret")"
  render "$STACK_CONF/slurm.conf" /etc/slurm/slurm.conf 644
  render "$STACK_CONF/gres.conf" /etc/slurm/gres.conf 644
  render "$STACK_CONF/slurmdbd.conf" /etc/slurm/slurmdbd.conf 600 slurm
}

slurmdbd_ok() { sacctmgr -n -P list cluster format=cluster; }

# Every list comes back from sacctmgr one name a line; add only what is missing. Each list
# is read once (a sacctmgr call costs ~0.1 s, and a stack that is up has everything).
ensure_associations() {
  local clusters accounts known_users entry account users user
  clusters="$(sacctmgr -n -P list cluster format=cluster)"
  grep -qx demo <<<"$clusters" || sacctmgr -i add cluster demo >/dev/null
  accounts="$(sacctmgr -n -P list account format=account)"
  known_users="$(sacctmgr -n -P list user format=user)"
  for entry in "${SLURM_ACCOUNTS[@]}"; do
    account=${entry%%:*}
    users=${entry#*:}
    grep -qx "$account" <<<"$accounts" ||
      sacctmgr -i add account "$account" cluster=demo description="$account" organization=demo >/dev/null
    for user in ${users//,/ }; do
      grep -qx "$user" <<<"$known_users" ||
        sacctmgr -i add user "$user" account="$account" defaultaccount="$account" >/dev/null
    done
  done
}

slurmctld_ok() { scontrol ping | grep -q 'is UP'; }

# Healthy: both partitions exist and node1 is usable (idle, or running jobs).
partitions_ok() {
  local states
  states="$(sinfo -h -n node1 -o '%P %t')" || return 1
  grep -Eq '^cpu\* (idle|mix|alloc)$' <<<"$states" && grep -Eq '^gpu (idle|mix|alloc)$' <<<"$states"
}

start_slurm() {
  start_mariadb
  write_slurm_config
  start_daemon slurmdbd /usr/sbin/slurmdbd -D || true
  wait_until slurmdbd 60 slurmdbd_ok
  ensure_associations
  start_daemon slurmctld /usr/sbin/slurmctld -D -f /etc/slurm/slurm.conf || true
  wait_until slurmctld 60 slurmctld_ok
  start_daemon slurmd /usr/sbin/slurmd -D -N node1 -f /etc/slurm/slurm.conf || true
  wait_until slurmd 60 partitions_ok
}
