/** The trigger feature put together: tables, sources, actions, the runner and the service. */
import type { BaseLogger } from 'pino';
import type { GroupDirectory } from '../admin/hub-groups';
import type { BridgeConfig } from '../config';
import type { JobService } from '../jobs/service';
import type { IWebhookOptions } from '../jobs/webhook';
import type { StorageService } from '../storage/service';
import type { Store } from '../store';
import type { TriggerActions } from './actions/action';
import { CopyAction } from './actions/copy';
import {
  RollEndpointAction,
  type IEndpointRoller
} from './actions/roll-endpoint';
import { SubmitAction } from './actions/submit';
import { WebhookAction } from './actions/webhook';
import { TriggerOwners } from './owners';
import { RunTable } from './repository/runs';
import { TriggerTable } from './repository/triggers';
import { TriggerRunner } from './runner';
import { TriggerService } from './service';
import { EndpointIdleSource } from './sources/endpoint-idle';
import { JobEndedSource } from './sources/job-ended';
import { ObjectCreatedSource } from './sources/object-created';
import { ScheduleSource } from './sources/schedule';
import type { TriggerSources } from './sources/source';

export interface ITriggersDeps {
  config: BridgeConfig;
  store: Store;
  jobs: JobService;
  storage: StorageService;
  roller: IEndpointRoller;
  webhooks: IWebhookOptions;
  /** The hub's groups: runs act with the owner's current groups. */
  groups?: GroupDirectory;
  /** The owner of an endpoint (null when there is none). */
  endpointOwner?: (id: string) => string | null;
  /** When an endpoint last served a request (the gateway's usage). */
  lastRequestAt?: (endpointId: string) => Date | null;
  logger: Pick<BaseLogger, 'info' | 'warn' | 'error'>;
  tickMs?: number;
  now?: () => Date;
  /** Scan bounds and intervals (tests make them small). */
  objectPageSize?: number;
}

export function buildTriggers(deps: ITriggersDeps): {
  service: TriggerService;
  runner: TriggerRunner;
} {
  const triggers = new TriggerTable(deps.store);
  const runs = new RunTable(deps.store);
  const owners = new TriggerOwners({
    ...(deps.groups === undefined ? {} : { groups: deps.groups }),
    policy: {
      adminGroup: deps.config.roles.adminGroup,
      instructorGroupSuffix: deps.config.roles.instructorGroupSuffix
    },
    logger: deps.logger
  });
  const sources: TriggerSources = {
    'object.created': new ObjectCreatedSource(deps.storage, {
      intervalMs: deps.config.triggers.scanSeconds * 1000,
      ...(deps.objectPageSize === undefined
        ? {}
        : { pageSize: deps.objectPageSize })
    }),
    'job.ended': new JobEndedSource(deps.jobs.table),
    schedule: new ScheduleSource(),
    'endpoint.idle': new EndpointIdleSource(deps.lastRequestAt ?? (() => null))
  };
  const actions: TriggerActions = {
    submit: new SubmitAction(deps.jobs),
    copy: new CopyAction(deps.storage, deps.jobs.table),
    webhook: new WebhookAction(deps.webhooks, deps.logger),
    'roll-endpoint': new RollEndpointAction(deps.roller, deps.jobs.table)
  };
  const runner = new TriggerRunner({
    triggers,
    runs,
    jobs: deps.jobs.table,
    sources,
    actions,
    owners,
    logger: deps.logger,
    tickMs: deps.tickMs ?? deps.config.triggers.tickSeconds * 1000,
    retryMs: deps.config.triggers.retrySeconds * 1000,
    ...(deps.now === undefined ? {} : { now: deps.now })
  });
  const service = new TriggerService({
    config: deps.config,
    store: deps.store,
    jobs: deps.jobs,
    storage: deps.storage,
    triggers,
    runs,
    sources,
    owners,
    poke: () => runner.poke(),
    ...(deps.endpointOwner === undefined
      ? {}
      : { endpointOwner: deps.endpointOwner }),
    ...(deps.now === undefined ? {} : { now: deps.now })
  });
  return { service, runner };
}
