/**
 * What a new trigger must pass before it is stored, so that a rule that cannot work is
 * refused at once rather than failing at every event: the owner can use what it names,
 * the job template passes the submit's checks, and the data-class rules hold for the
 * data the event will bring.
 */
import type { z } from 'zod';
import type { IAuthUser } from '../auth/decide';
import type { BridgeConfig } from '../config';
import {
  parseTierUri,
  type TriggerAction,
  type TriggerCreateSchema,
  type TriggerSource
} from '../contract';
import { DomainError } from '../domain-error';
import { checkWebhookUrl } from '../jobs/request-checks';
import type { JobService } from '../jobs/service';
import {
  checkDerivedOutputs,
  checkSensitiveTiersOnPartition
} from '../policy/data-classes';
import type { StorageService } from '../storage/service';
import type { TriggerTable } from './repository/triggers';

export type TriggerRequest = z.infer<typeof TriggerCreateSchema>;

export interface ITriggerChecksDeps {
  config: BridgeConfig;
  jobs: JobService;
  storage: StorageService;
  triggers: TriggerTable;
  /** The owner of an endpoint (null when there is none); absent: no endpoints here. */
  endpointOwner?: (id: string) => string | null;
}

/** The tiers a job started by this source reads besides its template's inputs. */
function eventTiers(deps: ITriggerChecksDeps, source: TriggerSource): string[] {
  if (source.kind === 'object.created') {
    return [parseTierUri(source.prefix).tier];
  }
  if (source.kind === 'job.ended' && source.trigger !== undefined) {
    const upstream = deps.triggers.get(source.trigger);
    if (upstream?.action.kind === 'submit') {
      return (upstream.action.job.outputs ?? []).map(
        o => parseTierUri(typeof o === 'string' ? o : o.uri).tier
      );
    }
  }
  return [];
}

/** The folder a tier URI is in, as `tier:path/`. */
function folderOf(uri: string): string {
  const { tier, path } = parseTierUri(uri);
  return `${tier}:${path.slice(0, path.lastIndexOf('/') + 1)}`;
}

function checkSource(
  deps: ITriggerChecksDeps,
  owner: IAuthUser,
  source: TriggerSource
): void {
  if (source.kind === 'job.ended' && source.trigger !== undefined) {
    if (deps.triggers.get(source.trigger)?.owner !== owner.name) {
      throw new DomainError('not_found', `No trigger ${source.trigger}`);
    }
  }
  if (source.kind === 'endpoint.idle') {
    if (deps.endpointOwner?.(source.endpoint) !== owner.name) {
      throw new DomainError('not_found', `No endpoint ${source.endpoint}`);
    }
  }
}

function checkSubmit(
  deps: ITriggerChecksDeps,
  owner: IAuthUser,
  source: TriggerSource,
  action: Extract<TriggerAction, { kind: 'submit' }>
): void {
  const plan = deps.jobs.check(owner, action.job);
  const directory = deps.storage.core.directory;
  const inputs = [
    ...eventTiers(deps, source),
    ...(action.job.inputs ?? []).map(u => parseTierUri(u).tier)
  ].map(name => directory.tier(name, owner));
  const outputUris = (action.job.outputs ?? []).map(o =>
    typeof o === 'string' ? o : o.uri
  );
  const outputs = outputUris.map(u =>
    directory.tier(parseTierUri(u).tier, owner)
  );
  checkSensitiveTiersOnPartition(inputs, plan.cluster, plan.profile.partition);
  checkDerivedOutputs(inputs, outputs);
  if (
    source.kind === 'object.created' &&
    outputUris.some(u => folderOf(u) === source.prefix)
  ) {
    throw new DomainError(
      'bad_request',
      `An output of the job goes to ${source.prefix}, the folder the trigger watches: each result would fire it again`
    );
  }
}

function checkCopy(
  deps: ITriggerChecksDeps,
  owner: IAuthUser,
  source: TriggerSource,
  to: string
): void {
  const target = parseTierUri(to);
  const core = deps.storage.core;
  const toTier = core.directory.tier(target.tier, owner);
  core.locate(owner, toTier, target.path, 'write');
  const from = eventTiers(deps, source).map(name =>
    core.directory.tier(name, owner)
  );
  if (from.some(t => t.class === 'sensitive') && toTier.class !== 'sensitive') {
    throw new DomainError(
      'forbidden',
      `Files on a sensitive tier can only be copied to a sensitive tier; ${toTier.name} is a ${toTier.class} tier`
    );
  }
  if (source.kind === 'object.created' && source.prefix === to) {
    throw new DomainError(
      'bad_request',
      'The copy goes to the folder the trigger watches: each copy would fire it again'
    );
  }
}

/** Throws the first reason the trigger cannot work (400/403/404 like the APIs it uses). */
export function checkTrigger(
  deps: ITriggerChecksDeps,
  owner: IAuthUser,
  req: Pick<TriggerRequest, 'source' | 'action'>
): void {
  const { source, action } = req;
  checkSource(deps, owner, source);
  switch (action.kind) {
    case 'submit':
      checkSubmit(deps, owner, source, action);
      break;
    case 'copy':
      checkCopy(deps, owner, source, action.to);
      break;
    case 'webhook':
      checkWebhookUrl(action.url, deps.config);
      break;
    case 'roll-endpoint':
      if (source.kind !== 'job.ended') {
        throw new DomainError(
          'bad_request',
          'roll-endpoint serves a model file a job wrote: its source must be job.ended'
        );
      }
      if (deps.endpointOwner?.(action.endpoint) !== owner.name) {
        throw new DomainError('not_found', `No endpoint ${action.endpoint}`);
      }
      break;
  }
}
