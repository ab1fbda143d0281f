/** Wires the real adapters from a validated config. Nothing here touches the network yet. */
import type { Logger } from 'pino';
import type { IAppDeps } from './app';
import { HubApi } from './adapters/hub';
import { S3Endpoint } from './adapters/s3/health';
import { SshPool } from './adapters/ssh/client';
import { SshSlurm } from './adapters/ssh/slurm';
import { hubFetchUser } from './auth/hub-auth';
import type { BridgeConfig } from './config';
import { Store } from './store';

export function createDeps(config: BridgeConfig, logger: Logger): IAppDeps {
  const store = new Store(config.store.path);
  const pool = new SshPool(logger.child({ component: 'ssh' }));
  const clusters = config.clusters.map(c => ({
    name: c.name,
    title: c.title,
    slurm: new SshSlurm(
      pool.get(c.name, {
        host: c.ssh.host,
        port: c.ssh.port,
        username: c.ssh.serviceUser,
        privateKey: c.ssh.serviceKey.reveal(),
        hostKey: c.ssh.hostKeyFile,
        connectTimeoutMs: c.ssh.connectTimeoutMs,
        idleCloseMs: c.ssh.idleCloseMs
      })
    )
  }));
  const s3 = config.s3.map(s => ({ name: s.name, port: new S3Endpoint(s) }));
  return {
    config,
    logger,
    store,
    fetchUser: hubFetchUser(config.hub.apiUrl),
    hub: new HubApi(config.hub.apiUrl, config.hub.apiToken.reveal()),
    clusters,
    s3,
    close: async () => {
      pool.closeAll();
      for (const s of s3) {
        s.port.close();
      }
      store.close();
    }
  };
}
