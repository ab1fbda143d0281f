/** A parsed bridge config with the `demo` cluster, for unit tests; `extra` adds top-level keys. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type BridgeConfig } from '../../src/config';

export const HOST_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGTNrE7HZepC/2AlzCf/8+PkuhyTBxRAh+mPvx63W9// x';

let dir: string | undefined;

/** One directory with the host key per test file (the config's paths resolve against it). */
function configDir(): string {
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'hpc-bridge-config-'));
    writeFileSync(join(dir, 'host.pub'), HOST_KEY);
  }
  return dir;
}

export function demoConfig(
  extra: Record<string, unknown>,
  cluster: Record<string, unknown> = {}
): BridgeConfig {
  const dir = configDir();
  return parseConfig(
    {
      basePath: '/services/hpc-bridge/',
      hub: { apiUrl: 'http://hub.invalid/hub/api', apiToken: { value: 't' } },
      store: { path: ':memory:' },
      secretKey: { value: 'ab'.repeat(32) },
      clusters: [
        {
          name: 'demo',
          ssh: {
            host: 'h',
            hostKeyFile: 'host.pub',
            serviceUser: 'svc',
            serviceKey: { value: 'k' }
          },
          ...cluster
        }
      ],
      ...extra
    },
    join(dir, 'config.yaml'),
    {}
  );
}
