# shellcheck shell=bash
# sshd on 127.0.0.1:2222 with its own config and host key (pinned by the bridge).

SSH_DIR="$STACK_DIR/ssh"

ssh_ok() {
  ssh -p 2222 -i "$STACK_DIR/bridge/service_ed25519" -o BatchMode=yes -o ConnectTimeout=5 \
    -o UserKnownHostsFile="$SSH_DIR/known_hosts" -o StrictHostKeyChecking=yes \
    "$BRIDGE_UNIX_USER@127.0.0.1" true
}

start_sshd() {
  mkdir -p "$SSH_DIR"
  chmod 755 "$SSH_DIR"
  [[ -f $SSH_DIR/ssh_host_ed25519_key ]] ||
    ssh-keygen -q -t ed25519 -N '' -C "hpc-stack host key" -f "$SSH_DIR/ssh_host_ed25519_key"
  chmod 600 "$SSH_DIR/ssh_host_ed25519_key"
  printf '[127.0.0.1]:2222 %s\n' "$(cut -d' ' -f1,2 "$SSH_DIR/ssh_host_ed25519_key.pub")" >"$SSH_DIR/known_hosts"
  render "$STACK_CONF/sshd_config" "$SSH_DIR/sshd_config" 600
  install -d -m 755 /run/sshd
  /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config" || die "sshd rejects $SSH_DIR/sshd_config"
  # Sessions inherit sshd's umask: files written over SFTP and every job submitted over SSH
  # (sbatch hands its umask to the job) are private to their owner.
  (
    umask 077
    start_daemon sshd /usr/sbin/sshd -D -e -f "$SSH_DIR/sshd_config"
  ) || true
  wait_until sshd 20 ssh_ok
}
