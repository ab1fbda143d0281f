import {
  type Endpoint,
  type NotebookContent,
  type Profile,
  ProfileSchema,
  type Tier,
  type Trigger,
  type TriggerCreate,
  TriggerCreateSchema,
  type TriggerDryRun,
  type TriggerPatch,
  type TriggerRun,
  TriggerRunSchema,
  TriggerSchema
} from '@hpc-bridge/server/contract';
import { readFileSync } from 'fs';
import { join } from 'path';
import type { IPipelinesApi } from '../pipelines/api';
import { endpoint } from './endpoints-fakes';
import { TIERS } from './tier-fakes';

/**
 * A trigger of alice's that watches a folder, with one run that submitted a job: the
 * UI tests' screenshots show the same one (ui-tests/tests/visual.spec.ts).
 */
const FIXED = TriggerSchema.parse(
  JSON.parse(
    readFileSync(join(__dirname, 'fixtures', 'trigger.json'), 'utf8')
  ) as unknown
);

/** The notebook the fixed trigger runs. */
export const NOTEBOOK: NotebookContent = (() => {
  if (FIXED.action.kind !== 'submit') {
    throw new Error('fixtures/trigger.json: the trigger runs no notebook');
  }
  return FIXED.action.job.notebook.content;
})();

export const PROFILE: Profile = ProfileSchema.parse({
  name: 'cpu-small',
  title: 'CPU',
  cluster: 'demo',
  partition: 'cpu',
  timeMinutes: { default: 10, min: 1, max: 60 },
  cpus: { default: 1, min: 1, max: 4 },
  memoryMB: { default: 500, min: 100, max: 4000 },
  gpus: { default: 0, min: 0, max: 0 }
});

/** The fixed trigger's last run, with `overrides`. */
export function run(overrides: Partial<TriggerRun> = {}): TriggerRun {
  return TriggerRunSchema.parse({ ...FIXED.lastRuns[0], ...overrides });
}

/** The fixed trigger, with `overrides`. */
export function trigger(overrides: Partial<Trigger> = {}): Trigger {
  return TriggerSchema.parse({ ...FIXED, lastRuns: [run()], ...overrides });
}

/** Tiers with a writable archive (the default output goes there). */
export const PIPELINE_TIERS: Tier[] = TIERS.map(tier =>
  tier.name === 'archive' ? { ...tier, access: 'write' } : tier
);

/** An `IPipelinesApi` over a list of triggers, recording what it was asked. */
export class FakePipelinesApi implements IPipelinesApi {
  triggers: Trigger[] = [trigger()];
  runPages: TriggerRun[][] = [];
  calls: string[] = [];
  created: TriggerCreate[] = [];
  /** The next create rejects with this. */
  refusal: Error | null = null;

  async list(): Promise<Trigger[]> {
    this.calls.push('list');
    return this.triggers;
  }

  async create(request: TriggerCreate): Promise<Trigger> {
    this.calls.push('create');
    if (this.refusal) {
      throw this.refusal;
    }
    this.created.push(request);
    const parsed = TriggerCreateSchema.parse(request);
    const created = trigger({
      id: `t${this.triggers.length + 1}`,
      name: parsed.name,
      source: parsed.source,
      action: parsed.action,
      // A day after the fixed trigger: listed first.
      createdAt: '2026-12-02T09:00:00.000Z',
      lastRuns: []
    });
    this.triggers = [...this.triggers, created];
    return created;
  }

  async patch(id: string, patch: TriggerPatch): Promise<Trigger> {
    this.calls.push(`patch ${id} ${patch.state ?? ''}`);
    const found = this.triggers.find(t => t.id === id);
    if (!found) {
      throw new Error('not found');
    }
    const patched = {
      ...found,
      ...(patch.state ? { state: patch.state } : {})
    };
    this.triggers = this.triggers.map(t => (t.id === id ? patched : t));
    return patched;
  }

  async remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    this.triggers = this.triggers.filter(t => t.id !== id);
  }

  async runs(
    id: string,
    options: { before?: string; limit?: number } = {}
  ): Promise<TriggerRun[]> {
    this.calls.push(`runs ${id} before=${options.before ?? ''}`);
    return this.runPages.shift() ?? [];
  }

  async dryRun(id: string): Promise<TriggerDryRun> {
    this.calls.push(`dry-run ${id}`);
    return { events: [], truncated: false };
  }

  async profiles(): Promise<Profile[]> {
    return [PROFILE];
  }

  async tiers(): Promise<Tier[]> {
    return PIPELINE_TIERS;
  }

  async endpoints(): Promise<Endpoint[]> {
    this.calls.push('endpoints');
    return [endpoint({ id: 'e1', name: 'assistant' })];
  }
}
