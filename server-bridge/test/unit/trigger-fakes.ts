/**
 * A trigger world for unit tests: the job-data world (the job service on a fake cluster,
 * the storage service on in-memory tiers, the stage-out) and the trigger feature on its
 * clock.
 */
import type { IAuthUser } from '../../src/auth/decide';
import type { JobSubmit, TriggerCreate } from '../../src/contract';
import { TriggerCreateSchema } from '../../src/contract';
import type { IEndpointRoller } from '../../src/triggers/actions/roll-endpoint';
import { buildTriggers } from '../../src/triggers/build';
import { ALICE, jobDataWorld, NOTEBOOK } from './job-data-fakes';
import { bucket } from './storage-fakes';

export { ALICE, BOB, NOTEBOOK } from './job-data-fakes';

export const JOB: JobSubmit = {
  name: 'clean',
  notebook: { path: 'clean.ipynb', content: NOTEBOOK },
  profile: 'cpu'
};

export function triggerHarness(
  options: {
    roller?: IEndpointRoller;
    groups?: Map<string, string[]>;
    /** The config's `triggers` section (e.g. `retrySeconds`). */
    triggers?: Record<string, number>;
  } = {}
) {
  const world = jobDataWorld({ triggers: options.triggers });
  const { store, fix, config, logger, jobs, clock } = world;
  const posted: string[] = [];
  const { service, runner } = buildTriggers({
    config,
    store,
    jobs,
    storage: fix.service,
    roller: options.roller ?? {
      roll: async (_u, endpoint) => ({ endpoint })
    },
    webhooks: {
      allowPrivateNetworks: false,
      send: async (_target, body) => {
        posted.push(body);
        return 204;
      }
    },
    ...(options.groups === undefined
      ? {}
      : { groups: async () => options.groups ?? new Map() }),
    endpointOwner: id => (id === 'ep-alice' ? 'alice' : null),
    logger,
    now: () => clock.now,
    objectPageSize: 2
  });
  return {
    ...world,
    service,
    runner,
    posted,
    project: bucket(fix, 'hpc-project'),
    create: (body: TriggerCreate, who: IAuthUser = ALICE) =>
      service.create(who, TriggerCreateSchema.parse(body))
  };
}

export type TriggerHarness = ReturnType<typeof triggerHarness>;
