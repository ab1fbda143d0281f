/**
 * Ending a replica: failed (stopped, counted against `maxRestarts`; the endpoint fails
 * past the bound or when the provider has no room) or stopped on request.
 */
import { type EndpointControl, iso } from './control';
import type { IStopOptions } from './ports';
import type { IEndpointRecord, IReplicaRecord } from './repository/endpoints';

/**
 * Asks the provider to stop `r` if it has a handle; a failure is only logged, as
 * `warning`, since the replica is already given up.
 */
export async function stopQuietly(
  ctl: EndpointControl,
  r: IReplicaRecord,
  warning: string
): Promise<void> {
  if (r.handle === null) {
    return;
  }
  await ctl
    .provider(r.provider)
    .stop(r.handle)
    .catch((e: unknown) =>
      ctl.logger.warn(
        { endpoint: r.endpointId, replica: r.id, err: e },
        warning
      )
    );
}

/**
 * Marks a replica failed, stops it, and counts the failure against the bound. When
 * the provider has no room (`noCapacity`) and there is no fallback, retrying at once
 * cannot help: the endpoint fails with the provider's sentence first.
 */
export async function replicaFailed(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  r: IReplicaRecord,
  reason: string,
  noCapacity = false
): Promise<IEndpointRecord> {
  const rt = ctl.runtime(ep.id);
  ctl.putReplica({
    ...r,
    state: 'failed',
    reason,
    stoppedAt: iso(ctl.clock.now())
  });
  rt.suspect.delete(r.id);
  ctl.unroute(ep.id, r.id);
  await stopQuietly(ctl, r, 'cannot stop a failed replica');
  const failuresInRow = ep.failuresInRow + 1;
  const maxRestarts = ctl.serving.maxRestarts;
  ctl.logger.warn(
    { endpoint: ep.id, replica: r.id, reason, failuresInRow },
    'replica failed'
  );
  if (noCapacity) {
    return {
      ...ep,
      failuresInRow,
      state: 'failed',
      reason: `${reason.replace(/\.?$/, '.')} Start it again when there is room, or give it a fallback provider.`
    };
  }
  if (failuresInRow > maxRestarts) {
    return {
      ...ep,
      failuresInRow,
      state: 'failed',
      reason: `Replica failed ${failuresInRow} times in a row (the bridge restarts it at most ${maxRestarts} times); last: ${reason}`
    };
  }
  return {
    ...ep,
    failuresInRow,
    restarts: ep.restarts + 1,
    reason: `Replica ${r.id} failed and is being replaced (restart ${ep.restarts + 1}): ${reason}`
  };
}

/** Asks the provider to stop `r`; stored as stopped once it did (retried otherwise). */
export async function stopReplica(
  ctl: EndpointControl,
  r: IReplicaRecord,
  reason: string,
  options: IStopOptions = {}
): Promise<void> {
  if (r.handle !== null) {
    try {
      await ctl.provider(r.provider).stop(r.handle, options);
    } catch (e) {
      ctl.logger.warn(
        { replica: r.id, err: e },
        'cannot stop a replica; will retry'
      );
      return;
    }
  }
  ctl.putReplica({
    ...r,
    state: 'stopped',
    reason,
    stoppedAt: iso(ctl.clock.now())
  });
}
