/**
 * The lineage feature's tables: `job_data_plans` (what a job with declared data needs at
 * its end) and `lineage_objects` (what made each object a job wrote).
 */
import { z } from 'zod';
import {
  LineageRecordSchema,
  ObjectVersionSchema,
  type LineageRecord,
  type ObjectVersion
} from '../../contract';
import type { Store } from '../../store';
import { StageOutCopyTable } from './copies';

/** A tier path as one user resolved it: the scope's root tells users' paths apart. */
const PlacedSchema = z.object({
  tier: z.string(),
  /** The group folder on `{group}` tiers, else `''`. */
  scopeKey: z.string(),
  scopeRoot: z.string(),
  /** The path inside the tier (group folder first). */
  path: z.string()
});
export type Placed = z.infer<typeof PlacedSchema>;

const PlannedInputSchema = PlacedSchema.extend({
  uri: z.string(),
  /** The declared input's index (`HPCB_INPUT_<i>`); absent in plans before `{element}`. */
  index: z.number().int().nonnegative().optional(),
  /** The element whose input it is (`{element}` expanded); null or absent: every element's. */
  element: z.number().int().nonnegative().nullable().optional(),
  folder: z.boolean(),
  version: ObjectVersionSchema,
  /** The path on the job's cluster where the tier is there (not copied); else null. */
  clusterPath: z.string().nullable()
});
export type PlannedInput = z.infer<typeof PlannedInputSchema>;

const PlannedOutputSchema = PlacedSchema.extend({
  uri: z.string(),
  /** The declared output's index (`HPCB_OUTPUT_<i>`). */
  index: z.number().int().nonnegative(),
  element: z.number().int().nonnegative(),
  folder: z.boolean(),
  estimateBytes: z.number().int().nonnegative().nullable(),
  /** The quota reservation held until the stage-out. */
  reservationId: z.string()
});
export type PlannedOutput = z.infer<typeof PlannedOutputSchema>;

export const JobDataPlanSchema = z.object({
  owner: z.string(),
  /** The owner's hub groups at submit: the stage-out acts with them. */
  groups: z.array(z.string()),
  notebookSha256: z.string(),
  inputs: z.array(PlannedInputSchema),
  outputs: z.array(PlannedOutputSchema)
});
export type JobDataPlan = z.infer<typeof JobDataPlanSchema>;

const PlanRowSchema = z.object({ plan: z.string() });

export class JobDataPlanTable {
  /** What each job's stage-out has copied so far. */
  readonly copies: StageOutCopyTable;

  constructor(private readonly store: Store) {
    this.copies = new StageOutCopyTable(store);
  }

  insert(jobId: string, plan: JobDataPlan, createdAt: string): void {
    this.store.db
      .prepare(
        'INSERT INTO job_data_plans (job_id, plan, created_at) VALUES (?, ?, ?)'
      )
      .run(jobId, JSON.stringify(plan), createdAt);
  }

  get(jobId: string): JobDataPlan | undefined {
    const row = this.store.db
      .prepare('SELECT plan FROM job_data_plans WHERE job_id = ?')
      .get(jobId);
    return row === undefined
      ? undefined
      : JobDataPlanSchema.parse(JSON.parse(PlanRowSchema.parse(row).plan));
  }
}

const StoredInputSchema = z.object({
  tier: z.string(),
  scopeRoot: z.string(),
  path: z.string(),
  version: ObjectVersionSchema
});
export type StoredInput = z.infer<typeof StoredInputSchema>;

/** A lineage record with the scope roots that locate it and its inputs. */
export interface IStoredLineage {
  record: LineageRecord;
  scopeRoot: string;
  inputs: StoredInput[];
}

const LineageRowSchema = z.object({
  tier: z.string(),
  scope_root: z.string(),
  path: z.string(),
  version: z.string(),
  job_id: z.string(),
  element: z.number().int(),
  owner: z.string(),
  job_name: z.string(),
  notebook_path: z.string(),
  notebook_sha256: z.string(),
  parameters: z.string(),
  inputs: z.string(),
  created_at: z.string()
});

/** Versions compare by this key: the same fields in the same order. */
export function versionKey(v: ObjectVersion): string {
  return JSON.stringify([v.size, v.lastModified, v.etag ?? null]);
}

function parseRow(row: unknown): IStoredLineage {
  const r = LineageRowSchema.parse(row);
  const inputs = z.array(StoredInputSchema).parse(JSON.parse(r.inputs));
  const [size, lastModified, etag] = z
    .tuple([
      z.number().nullable(),
      z.string().nullable(),
      z.string().nullable()
    ])
    .parse(JSON.parse(r.version));
  return {
    scopeRoot: r.scope_root,
    inputs,
    record: LineageRecordSchema.parse({
      tier: r.tier,
      path: r.path,
      version: { size, lastModified, ...(etag === null ? {} : { etag }) },
      job: {
        id: r.job_id,
        owner: r.owner,
        name: r.job_name,
        element: r.element,
        notebookPath: r.notebook_path,
        notebookSha256: r.notebook_sha256,
        parameters: JSON.parse(r.parameters) as unknown
      },
      inputs: inputs.map(({ tier, path, version }) => ({
        tier,
        path,
        version
      })),
      createdAt: r.created_at
    })
  };
}

export class LineageTable {
  constructor(private readonly store: Store) {}

  /** Records (or records again) what made this version of the object. */
  put(entry: IStoredLineage): void {
    const { record } = entry;
    this.store.db
      .prepare(
        `INSERT INTO lineage_objects (tier, scope_root, path, version, job_id,
           element, owner, job_name, notebook_path, notebook_sha256, parameters, inputs,
           created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tier, scope_root, path, version) DO UPDATE SET
           job_id = excluded.job_id, element = excluded.element, owner = excluded.owner,
           job_name = excluded.job_name, notebook_path = excluded.notebook_path,
           notebook_sha256 = excluded.notebook_sha256, parameters = excluded.parameters,
           inputs = excluded.inputs, created_at = excluded.created_at`
      )
      .run(
        record.tier,
        entry.scopeRoot,
        record.path,
        versionKey(record.version),
        record.job.id,
        record.job.element,
        record.job.owner,
        record.job.name,
        record.job.notebookPath,
        record.job.notebookSha256,
        JSON.stringify(record.job.parameters),
        JSON.stringify(entry.inputs),
        record.createdAt
      );
  }

  /**
   * The record of this version of the object; without a version (or none recorded for
   * it), the newest record at that path.
   */
  find(object: {
    tier: string;
    scopeRoot: string;
    path: string;
    version?: ObjectVersion;
  }): IStoredLineage | undefined {
    const { tier, scopeRoot, path, version } = object;
    const db = this.store.db;
    const exact =
      version === undefined
        ? undefined
        : db
            .prepare(
              'SELECT * FROM lineage_objects WHERE tier = ? AND scope_root = ? AND path = ? AND version = ?'
            )
            .get(tier, scopeRoot, path, versionKey(version));
    const row =
      exact ??
      db
        .prepare(
          'SELECT * FROM lineage_objects WHERE tier = ? AND scope_root = ? AND path = ? ORDER BY created_at DESC LIMIT 1'
        )
        .get(tier, scopeRoot, path);
    return row === undefined ? undefined : parseRow(row);
  }

  byJob(jobId: string): IStoredLineage[] {
    return this.store.db
      .prepare(
        'SELECT * FROM lineage_objects WHERE job_id = ? ORDER BY path, element'
      )
      .all(jobId)
      .map(parseRow);
  }
}
