/** How many endpoints of one user may run on the local provider at once. */
import { DomainError } from '../domain-error';
import type { EndpointControl } from './control';
import type { IEndpointRecord } from './repository/endpoints';

/**
 * `serving.providers.local.maxReplicasPerUser`: an endpoint on the local provider may
 * start (create, start, wake) only while its owner's other serving endpoints there
 * are fewer (429 otherwise). The provider checks it again when it spawns.
 */
export function checkUserSlots(
  ctl: EndpointControl,
  ep: Pick<IEndpointRecord, 'id' | 'owner' | 'provider'>
): void {
  const cap = ctl.serving.providers.local?.maxReplicasPerUser;
  if (ep.provider !== 'local' || cap === undefined) {
    return;
  }
  const others = ctl.table
    .list(ep.owner)
    .filter(
      x =>
        x.id !== ep.id &&
        x.desired === 'running' &&
        !['failed', 'scaled-to-zero', 'stopped'].includes(x.state) &&
        (x.provider === 'local' ||
          ctl.activeOf(x.id).some(r => r.provider === 'local'))
    );
  if (others.length >= cap) {
    throw new DomainError(
      'rate_limited',
      `At most ${cap} endpoint${cap === 1 ? '' : 's'} of one user run on the local provider at once (maxReplicasPerUser); ${others
        .map(x => x.name)
        .sort()
        .join(
          ', '
        )} ${others.length === 1 ? 'runs' : 'run'} now: stop one first or choose another provider`
    );
  }
}
