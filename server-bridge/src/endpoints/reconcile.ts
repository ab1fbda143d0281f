/**
 * Reconciliation: each provider's replicas compared with the store, at start and every
 * `reconcileSeconds`, so that no replica runs without a live record (and none is
 * routed to that the bridge has not checked since it started).
 */
import type { ServingProviderInfo } from '../contract';
import type { EndpointControl } from './control';
import { applyToReplica } from './replica-effects';
import { sleeps } from './scale-to-zero';

/** Facts each provider adds for the create dialog (flavors, quota). */
export async function providerDetails(
  ctl: EndpointControl
): Promise<Map<string, Partial<ServingProviderInfo>>> {
  const out = new Map<string, Partial<ServingProviderInfo>>();
  for (const [name, p] of ctl.deps.providers) {
    if (p.describe !== undefined) {
      out.set(name, await p.describe());
    }
  }
  return out;
}

/**
 * Compares each provider's replicas with the store. A replica the store does not know
 * as active is stopped (no orphans; a parked one is kept while its endpoint sleeps); a
 * stored replica without a handle (the bridge died while starting it) adopts the
 * provider's. At start (`atStart`), stored replicas the provider no longer has are
 * marked stopped and kept ones are health-checked before they get requests; later,
 * the loop's status checks replace vanished replicas.
 */
export async function reconcile(
  ctl: EndpointControl,
  atStart: boolean
): Promise<void> {
  for (const [name, provider] of ctl.deps.providers) {
    let listed;
    try {
      listed = await provider.list();
    } catch (e) {
      ctl.logger.warn(
        { provider: name, err: e },
        'cannot list replicas; keeping the stored ones'
      );
      continue;
    }
    // Read after listing: a replica's record is written before its provider starts it.
    const stored = ctl.table.activeReplicas().filter(x => x.provider === name);
    const byId = new Map(listed.map(x => [x.handle.replicaId, x]));
    const storedIds = new Set<string>();
    for (const r of stored) {
      storedIds.add(r.id);
      const hand = { stored: r, next: r };
      const found = byId.get(r.id);
      if (found !== undefined) {
        if (r.handle === null) {
          ctl.logger.info(
            { provider: name, replica: r.id },
            'adopting a replica started before the bridge stopped'
          );
          ctl.table.putReplica({ ...r, handle: found.handle });
        }
        if (atStart && r.state === 'ready') {
          await applyToReplica(
            ctl,
            r.endpointId,
            hand,
            'request-failed',
            { reason: 'bridge restarted' },
            ctl.clock.now()
          );
        }
        continue;
      }
      if (atStart) {
        await applyToReplica(
          ctl,
          r.endpointId,
          hand,
          'lost-at-restart',
          {},
          ctl.clock.now()
        );
      }
    }
    for (const x of listed) {
      if (storedIds.has(x.handle.replicaId)) {
        continue;
      }
      if (x.parked === true && sleeps(ctl, x.endpointId)) {
        continue;
      }
      ctl.logger.info(
        { provider: name, replica: x.handle.replicaId, owner: x.owner },
        'stopping a replica the store does not know'
      );
      await provider
        .stop(x.handle)
        .catch((e: unknown) =>
          ctl.logger.warn(
            { provider: name, err: e },
            'cannot stop an unknown replica'
          )
        );
    }
  }
}
