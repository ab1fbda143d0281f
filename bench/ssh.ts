/** A command as alice on the stack's login node (sshd on port 2222), as users run it by hand. */
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_DIR } from '../server-bridge/test/integration/stack';

/**
 * Runs `command` over ssh and returns its trimmed stdout. `keepOpen` shares one connection
 * between calls (as the bridge keeps its own); without it each call is a fresh login.
 */
export function sshAlice(command: string, keepOpen = false): string {
  const shared = keepOpen
    ? [
        '-o',
        'ControlMaster=auto',
        '-o',
        `ControlPath=${join(tmpdir(), 'hpcb-bench-%C')}`,
        '-o',
        'ControlPersist=120'
      ]
    : [];
  return execFileSync(
    'ssh',
    [
      '-p',
      '2222',
      '-i',
      join(STACK_DIR, 'ssh', 'users', 'alice_ed25519'),
      '-o',
      `UserKnownHostsFile=${join(STACK_DIR, 'ssh', 'known_hosts')}`,
      '-o',
      'BatchMode=yes',
      ...shared,
      'alice@127.0.0.1',
      command
    ],
    { encoding: 'utf8' }
  ).trim();
}
