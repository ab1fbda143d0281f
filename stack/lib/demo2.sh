# shellcheck shell=bash
# The second cluster, demo2 (~20 MB): its slurmctld (:6827) and slurmd (:6828, node node2,
# partition batch2) beside demo's, sharing munge and slurmdbd, and its login node: an sshd
# on 127.0.0.1:2223 that sets SLURM_CONF so that every command through it talks to demo2.
# Needs slurm.sh and ssh.sh (slurmdbd, the host key) sourced before it.

DEMO2_DIR="$STACK_DIR/slurm-demo2"
DEMO2_CONF="$DEMO2_DIR/slurm.conf"
DEMO2_SSH_PORT=2223
DEMO2_KNOWN_HOSTS="$SSH_DIR/known_hosts_demo2"

demo2_slurm() { SLURM_CONF=$DEMO2_CONF "$@"; }

write_demo2_config() {
  install -d -o slurm -g slurm -m 755 "$DEMO2_DIR" "$DEMO2_DIR/state" "$DEMO2_DIR/run"
  install -d -m 755 "$DEMO2_DIR/spool"
  render "$STACK_CONF/slurm-demo2.conf" "$DEMO2_CONF" 644
}

# demo2 in slurmdbd, with demo's accounts and users (SLURM_ACCOUNTS), once each.
ensure_demo2_associations() {
  local clusters assocs entry account users user
  clusters="$(sacctmgr -n -P list cluster format=cluster)"
  grep -qx demo2 <<<"$clusters" || sacctmgr -i add cluster demo2 >/dev/null
  # "account|" for an account's own association, "account|user" for a user's.
  assocs="$(sacctmgr -n -P list assoc cluster=demo2 format=account,user)"
  for entry in "${SLURM_ACCOUNTS[@]}"; do
    account=${entry%%:*}
    users=${entry#*:}
    grep -qx "$account|" <<<"$assocs" ||
      sacctmgr -i add account "$account" cluster=demo2 description="$account" \
        organization=demo >/dev/null
    for user in ${users//,/ }; do
      grep -qx "$account|$user" <<<"$assocs" ||
        sacctmgr -i add user "$user" account="$account" defaultaccount="$account" \
          cluster=demo2 >/dev/null
    done
  done
}

demo2_slurmctld_ok() { demo2_slurm scontrol ping | grep -q 'is UP'; }

# Healthy: node2 is usable (idle, or running jobs) in batch2, the default partition.
demo2_partitions_ok() {
  demo2_slurm sinfo -h -n node2 -o '%P %t' | grep -Eq '^batch2\* (idle|mix|alloc)$'
}

start_demo2_slurm() {
  wait_until slurmdbd 60 slurmdbd_ok
  write_demo2_config
  ensure_demo2_associations
  start_daemon slurmctld-demo2 /usr/sbin/slurmctld -D -f "$DEMO2_CONF" || true
  wait_until slurmctld-demo2 60 demo2_slurmctld_ok
  # Its own UTS namespace only so that `hostname` in a job says node2; unshare and sh exec,
  # so the pid file names slurmd itself.
  start_daemon slurmd-demo2 /usr/bin/unshare --uts /bin/sh -c \
    "hostname node2 && exec /usr/sbin/slurmd -D -N node2 -f '$DEMO2_CONF'" || true
  wait_until slurmd-demo2 60 demo2_partitions_ok
}

# Through the login node, the service account's shell sees demo2's configuration.
demo2_ssh_ok() {
  local conf
  conf="$(ssh -p "$DEMO2_SSH_PORT" -i "$STACK_DIR/bridge/service_ed25519" -o BatchMode=yes \
    -o ConnectTimeout=5 -o UserKnownHostsFile="$DEMO2_KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
    "$BRIDGE_UNIX_USER@127.0.0.1" printenv SLURM_CONF)" &&
    [[ $conf == "$DEMO2_CONF" ]]
}

# demo's sshd configuration on another port, with SLURM_CONF set for every session (it
# wins over what a client sends) and the same host key.
start_demo2_sshd() {
  [[ -f $SSH_DIR/ssh_host_ed25519_key ]] || die "no host key in $SSH_DIR: start sshd first"
  printf '[127.0.0.1]:%s %s\n' "$DEMO2_SSH_PORT" \
    "$(cut -d' ' -f1,2 "$SSH_DIR/ssh_host_ed25519_key.pub")" >"$DEMO2_KNOWN_HOSTS"
  render "$STACK_CONF/sshd_config" "$SSH_DIR/sshd_config_demo2" 600
  sed -i "s/^Port 2222\$/Port $DEMO2_SSH_PORT/" "$SSH_DIR/sshd_config_demo2"
  printf '%s\n' "# The second cluster's login node (stack/lib/demo2.sh)." \
    "SetEnv SLURM_CONF=$DEMO2_CONF" >>"$SSH_DIR/sshd_config_demo2"
  grep -qx "Port $DEMO2_SSH_PORT" "$SSH_DIR/sshd_config_demo2" ||
    die "$STACK_CONF/sshd_config has no 'Port 2222' line to change"
  install -d -m 755 /run/sshd
  /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config_demo2" || die "sshd rejects $SSH_DIR/sshd_config_demo2"
  (
    umask 077
    start_daemon sshd-demo2 /usr/sbin/sshd -D -e -f "$SSH_DIR/sshd_config_demo2"
  ) || true
  wait_until sshd-demo2 20 demo2_ssh_ok
}

start_demo2() {
  start_demo2_slurm
  start_demo2_sshd
}
