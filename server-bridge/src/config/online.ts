/**
 * The `--online` part of `check-config`: can the bridge reach what the config names,
 * with the credentials it names? Each probe has its own timeout and result line; a
 * failure is a sentence with the key path to fix. Secrets are never part of a message.
 */
import type { BridgeConfig } from './index';
import { checkCluster } from './online-cluster';
import { checkOpenStack, checkS3 } from './online-cloud';
import type { IOnlineFinding, IOnlineOptions, Probe } from './online-findings';
import { checkHubAndGroups } from './online-hub';

export type { IOnlineFinding } from './online-findings';

/** Runs every probe at once; the findings come back in the config's order. */
export async function onlineChecks(
  config: BridgeConfig,
  options: IOnlineOptions
): Promise<IOnlineFinding[]> {
  const probes: Probe[] = [
    checkHubAndGroups(config, options),
    ...config.clusters.map((c, i) => checkCluster(config, c, i, options)),
    ...config.s3.map((s, i) => checkS3(config, s, i, options))
  ];
  const openstack = config.serving.providers.openstack;
  if (openstack !== undefined) {
    probes.push(checkOpenStack(openstack, options));
  }
  return (await Promise.all(probes)).flat();
}
