/** Endpoints and their replicas in the store (one JSON record per row). */
import { z } from 'zod';
import {
  EndpointNameSchema,
  EndpointStateSchema,
  EndpointVisibilitySchema,
  ReplicaStateSchema,
  ServingProviderNameSchema,
  ServingResourcesSchema,
  type ReplicaState
} from '../../contract';
import type { Store } from '../../store';
import { whereDefined } from '../../store/rows';
import { ModelFileSchema } from './user-models';

/** An endpoint moving to another model: the new one starts, then the old ones drain. */
export const RollSchema = z.object({
  /** The model served before, and its file (null: a catalog model). */
  from: z.object({
    model: z.string(),
    modelFile: ModelFileSchema.nullable()
  }),
  /**
   * The endpoint's replicas when the roll started: those still active serve the old model
   * and drain once a new one is ready; any other is the new model's.
   */
  replaces: z.array(z.string()),
  startedAt: z.string()
});
export type IRollRecord = z.infer<typeof RollSchema>;

export const EndpointRecordSchema = z.object({
  id: z.string(),
  name: EndpointNameSchema,
  owner: z.string(),
  model: z.string(),
  /** The file of a user model (rows before user models, and catalog models: null). */
  modelFile: ModelFileSchema.nullable().default(null),
  /** A roll to another model in flight (see `roll.ts`). */
  roll: RollSchema.nullable().default(null),
  provider: ServingProviderNameSchema,
  /** Where replicas go when `provider` cannot place one (rows before it: none). */
  fallback: ServingProviderNameSchema.nullable().default(null),
  /** Why the current replica runs on the fallback; null while on the primary. */
  fallbackReason: z.string().nullable().default(null),
  resources: ServingResourcesSchema,
  idleMinutes: z.number().int().positive(),
  visibility: EndpointVisibilitySchema,
  group: z.string().nullable(),
  /** What the owner asked for: serve (possibly scaled to zero) or stopped. */
  desired: z.enum(['running', 'stopped']),
  state: EndpointStateSchema,
  reason: z.string().nullable(),
  /** Replacements of failed replicas since the last start. */
  restarts: z.number().int().nonnegative(),
  /** Failed replicas in a row without one becoming ready in between (the bound). */
  failuresInRow: z.number().int().nonnegative(),
  /** The one key of all replicas started before each replica got its own (kept so that
   *  they stay reachable until they end); null for newer endpoints. Never shown. */
  upstreamKey: z.string().nullable().default(null),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastRequestAt: z.string().nullable(),
  /** Since when the endpoint counts as active (start or wake), for the idle timer. */
  activeSince: z.string(),
  /** The storage tiers its replicas use (`tier` or `tier:group`), resolved at create. */
  tiers: z.array(z.string()).default([]),
  /** Their locations, given to every replica (`HPCB_TIER_<NAME>`, `HPCB_S3_ENDPOINT`). */
  tierEnv: z.record(z.string(), z.string()).default({})
});
export type IEndpointRecord = z.infer<typeof EndpointRecordSchema>;

export const ReplicaHandleSchema = z.object({
  provider: z.string(),
  replicaId: z.string(),
  ref: z.record(z.string(), z.union([z.string(), z.number()]))
});

export const ReplicaRecordSchema = z.object({
  id: z.string(),
  endpointId: z.string(),
  provider: ServingProviderNameSchema,
  handle: ReplicaHandleSchema.nullable(),
  state: ReplicaStateSchema,
  /** `host:port` once the provider reports it. */
  address: z.string().nullable(),
  /** The model it was started with (rows before rolls: none, the endpoint's). */
  model: z.string().nullable().optional(),
  reason: z.string().nullable(),
  /** Started to replace one whose time limit ends (not a restart). */
  handoverOf: z.string().nullable(),
  createdAt: z.string(),
  readyAt: z.string().nullable(),
  endsAt: z.string().nullable(),
  /** When it started draining (walltime handover). */
  drainingSince: z.string().nullable(),
  stoppedAt: z.string().nullable(),
  /** The key this replica expects, fresh for every replica (null: the endpoint's key,
   *  for a replica started before replicas had their own). Never shown to users. */
  upstreamKey: z.string().nullable().default(null)
});
export type IReplicaRecord = z.infer<typeof ReplicaRecordSchema>;

export const ACTIVE_REPLICA_STATES: readonly ReplicaState[] = [
  'pending',
  'starting',
  'ready',
  'draining'
];

const RowSchema = z.object({ record: z.string() });
const EndpointRowSchema = z.object({
  record: z.string(),
  version: z.number().int(),
  last_request_at: z.string().nullable()
});
const ENDPOINT_COLUMNS = 'record, version, last_request_at';

/** An endpoint's record and the version its next conditional write expects. */
export interface IVersionedEndpoint {
  record: IEndpointRecord;
  version: number;
}

export class EndpointTable {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  insert(rec: IEndpointRecord): void {
    this.db
      .prepare(
        'INSERT INTO endpoints (id, owner, name, created_at, record) VALUES (?, ?, ?, ?, ?)'
      )
      .run(rec.id, rec.owner, rec.name, rec.createdAt, JSON.stringify(rec));
  }

  update(rec: IEndpointRecord): void {
    this.db
      .prepare(
        'UPDATE endpoints SET record = ?, version = version + 1 WHERE id = ?'
      )
      .run(JSON.stringify(rec), rec.id);
  }

  /**
   * Writes the record if it is still at `version` (no other bridge wrote it since it
   * was read); false when it was written meanwhile or is gone.
   */
  updateIf(rec: IEndpointRecord, version: number): boolean {
    return (
      this.db
        .prepare(
          'UPDATE endpoints SET record = ?, version = ? WHERE id = ? AND version = ?'
        )
        .run(JSON.stringify(rec), version + 1, rec.id, version).changes === 1
    );
  }

  get(id: string): IEndpointRecord | undefined {
    return this.read(id)?.record;
  }

  /** The record with its version (for `updateIf`). */
  read(id: string): IVersionedEndpoint | undefined {
    const row = this.db
      .prepare(`SELECT ${ENDPOINT_COLUMNS} FROM endpoints WHERE id = ?`)
      .get(id);
    return row === undefined ? undefined : parseVersioned(row);
  }

  /**
   * A request served at `at` (ISO time) by a bridge that does not run the loop; kept
   * beside the record, so that it never conflicts with the loop's writes of it.
   */
  noteRequest(id: string, at: string): void {
    this.store
      .statement(
        'UPDATE endpoints SET last_request_at = ? WHERE id = ? AND (last_request_at IS NULL OR last_request_at < ?)'
      )
      .run(at, id, at);
  }

  byName(owner: string, name: string): IEndpointRecord | undefined {
    const row = this.db
      .prepare(
        `SELECT ${ENDPOINT_COLUMNS} FROM endpoints WHERE owner = ? AND name = ?`
      )
      .get(owner, name);
    return row === undefined ? undefined : parse(row);
  }

  /** Newest first; all owners when `owner` is undefined. */
  list(owner?: string): IEndpointRecord[] {
    const where = whereDefined([['owner = ?', owner]]);
    return this.db
      .prepare(
        `SELECT ${ENDPOINT_COLUMNS} FROM endpoints${where.sql} ORDER BY created_at DESC`
      )
      .all(...where.args)
      .map(parse);
  }

  /** Everyone who owns an endpoint. */
  owners(): string[] {
    return this.db
      .prepare('SELECT DISTINCT owner FROM endpoints')
      .all()
      .map(r => z.object({ owner: z.string() }).parse(r).owner);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM endpoints WHERE id = ?').run(id);
  }

  putReplica(rec: IReplicaRecord): void {
    this.db
      .prepare(
        `INSERT INTO replicas (id, endpoint_id, state, created_at, record) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, record = excluded.record`
      )
      .run(
        rec.id,
        rec.endpointId,
        rec.state,
        rec.createdAt,
        JSON.stringify(rec)
      );
  }

  /** The endpoint's replicas, oldest first; the last `limit` when given. */
  replicas(endpointId: string, limit = 20): IReplicaRecord[] {
    const rows = this.db
      .prepare(
        'SELECT record FROM replicas WHERE endpoint_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'
      )
      .all(endpointId, limit);
    return rows.map(parseReplica).reverse();
  }

  /** Replicas in pending/starting/ready/draining, of every endpoint. */
  activeReplicas(): IReplicaRecord[] {
    const marks = ACTIVE_REPLICA_STATES.map(() => '?').join(', ');
    return this.db
      .prepare(
        `SELECT record FROM replicas WHERE state IN (${marks}) ORDER BY created_at, rowid`
      )
      .all(...ACTIVE_REPLICA_STATES)
      .map(parseReplica);
  }
}

/** The record, its last request the later of its own and the one noted beside it. */
function parseVersioned(row: unknown): IVersionedEndpoint {
  const r = EndpointRowSchema.parse(row);
  const record = EndpointRecordSchema.parse(JSON.parse(r.record));
  const noted = r.last_request_at;
  if (
    noted !== null &&
    (record.lastRequestAt === null ||
      Date.parse(noted) > Date.parse(record.lastRequestAt))
  ) {
    record.lastRequestAt = noted;
  }
  return { record, version: r.version };
}

function parse(row: unknown): IEndpointRecord {
  return parseVersioned(row).record;
}

function parseReplica(row: unknown): IReplicaRecord {
  return ReplicaRecordSchema.parse(JSON.parse(RowSchema.parse(row).record));
}
