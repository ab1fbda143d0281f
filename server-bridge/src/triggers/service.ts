/**
 * Triggers of their owners: create (checked up front, with the source's baseline), list,
 * read, pause and resume, delete, their runs, and a dry run of what would fire now.
 * Only the owner sees a trigger: others get the 404 of an unknown id.
 */
import { randomBytes } from 'node:crypto';
import type { IAuthUser } from '../auth/decide';
import {
  TriggerLimitsSchema,
  type Trigger,
  type TriggerDryRun,
  type TriggerPatch,
  type TriggerRun
} from '../contract';
import { DomainError } from '../domain-error';
import type { Store } from '../store';
import {
  checkTrigger,
  type ITriggerChecksDeps,
  type TriggerRequest
} from './checks';
import { holdReason, hourBefore, PAUSED } from './limits';
import type { TriggerOwners } from './owners';
import { runOf, type RunTable } from './repository/runs';
import type { ITriggerRecord } from './repository/triggers';
import { sourceOf, type TriggerSources } from './sources/source';

/** How many triggers one user may have. */
export const MAX_TRIGGERS_PER_USER = 50;

export interface ITriggerServiceDeps extends ITriggerChecksDeps {
  store: Store;
  runs: RunTable;
  sources: TriggerSources;
  owners: TriggerOwners;
  /** Asks the runner for a tick now (a trigger was resumed or made). */
  poke?: () => void;
  now?: () => Date;
  maxPerUser?: number;
}

export class TriggerService {
  constructor(private readonly deps: ITriggerServiceDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** The trigger if `user` owns it; 404 otherwise. */
  private record(user: IAuthUser, id: string): ITriggerRecord {
    const rec = this.deps.triggers.get(id);
    if (rec === undefined || rec.owner !== user.name) {
      throw new DomainError('not_found', `No trigger ${id}`);
    }
    return rec;
  }

  private view(rec: ITriggerRecord): Trigger {
    return {
      id: rec.id,
      owner: rec.owner,
      name: rec.name,
      source: rec.source,
      action: rec.action,
      limits: rec.limits,
      state: rec.state,
      createdAt: rec.createdAt,
      updatedAt: rec.updatedAt,
      lastRuns: this.deps.runs.list(rec.id, 5).map(runOf)
    };
  }

  list(user: IAuthUser): Trigger[] {
    return this.deps.triggers.byOwner(user.name).map(r => this.view(r));
  }

  get(user: IAuthUser, id: string): Trigger {
    return this.view(this.record(user, id));
  }

  async create(user: IAuthUser, req: TriggerRequest): Promise<Trigger> {
    const max = this.deps.maxPerUser ?? MAX_TRIGGERS_PER_USER;
    const count = this.deps.triggers.countOf(user.name);
    if (count >= max) {
      throw new DomainError(
        'conflict',
        `You have ${count} triggers: the limit is ${max}; delete one first`
      );
    }
    checkTrigger(this.deps, user, req);
    const now = this.now();
    const cursor = await sourceOf(this.deps.sources, req.source).baseline(
      user,
      req.source,
      now
    );
    const at = now.toISOString();
    const rec: ITriggerRecord = {
      id: randomBytes(8).toString('hex'),
      owner: user.name,
      name: req.name,
      source: req.source,
      action: req.action,
      limits: TriggerLimitsSchema.parse(req.limits ?? {}),
      state: req.state,
      identity: {
        name: user.name,
        groups: [...user.groups],
        roles: [...user.roles],
        instructorOf: [...user.instructorOf],
        admin: user.admin
      },
      createdAt: at,
      updatedAt: at
    };
    this.deps.triggers.insert(rec, cursor);
    this.audit(user, 'trigger.create', rec, {
      source: rec.source.kind,
      action: rec.action.kind,
      state: rec.state
    });
    this.deps.poke?.();
    return this.view(rec);
  }

  patch(user: IAuthUser, id: string, patch: TriggerPatch): Trigger {
    const rec = this.record(user, id);
    const next = {
      name: patch.name ?? rec.name,
      state: patch.state ?? rec.state,
      limits: TriggerLimitsSchema.parse({ ...rec.limits, ...patch.limits }),
      updatedAt: this.now().toISOString()
    };
    this.deps.triggers.update(id, next);
    if (next.state !== rec.state) {
      this.audit(
        user,
        next.state === 'paused' ? 'trigger.pause' : 'trigger.resume',
        rec
      );
      this.deps.poke?.();
    }
    return this.view({ ...rec, ...next });
  }

  /** Deletes the trigger and its runs; jobs its runs submitted keep running. */
  delete(user: IAuthUser, id: string): void {
    const rec = this.record(user, id);
    this.deps.triggers.delete(id);
    this.audit(user, 'trigger.delete', rec);
  }

  runs(
    user: IAuthUser,
    id: string,
    query: { limit: number; before?: string | undefined }
  ): TriggerRun[] {
    this.record(user, id);
    return this.deps.runs.list(id, query.limit, query.before).map(runOf);
  }

  /**
   * Scans the source now without recording anything: each event it would fire, and
   * whether it would start (after the runs already waiting), wait, or ran already.
   */
  async dryRun(user: IAuthUser, id: string): Promise<TriggerDryRun> {
    const rec = this.record(user, id);
    const now = this.now();
    const scan = await sourceOf(this.deps.sources, rec.source).scan({
      source: rec.source,
      owner: await this.deps.owners.of(rec),
      cursor: this.deps.triggers.cursor(id),
      now
    });
    const runs = this.deps.runs;
    const seen = runs.knownKeys(
      id,
      scan.events.map(e => e.key)
    );
    let going = runs.going(id);
    const started = runs.startedSince(id, hourBefore(now));
    const verdict = (): string | null => {
      if (rec.state === 'paused') {
        return PAUSED;
      }
      const held = holdReason(rec.limits, going, started);
      if (held === null) {
        going += 1;
        started.push(now.toISOString());
      }
      return held;
    };
    runs.inState('waiting', id).forEach(verdict);
    return {
      events: scan.events.map(e => {
        if (seen.has(e.key)) {
          return { ...e, outcome: 'seen' as const, reason: null };
        }
        const reason = verdict();
        return {
          ...e,
          outcome: reason === null ? ('run' as const) : ('wait' as const),
          reason
        };
      }),
      truncated: scan.truncated
    };
  }

  private audit(
    user: IAuthUser,
    action: string,
    rec: ITriggerRecord,
    details: Record<string, unknown> = {}
  ): void {
    this.deps.store.audit({
      user: user.name,
      action,
      target: rec.id,
      details: { name: rec.name, ...details }
    });
  }
}
