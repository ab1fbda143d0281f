import { replicasMigration } from './migrations-replicas';

/**
 * Versioned schema migrations, applied in order. Never edit a released entry:
 * append a new one.
 */
import { replicaLimits, sharedEndpoints } from './migrations-limits';
import { replicaLiveness } from './migrations-liveness';

export interface IMigration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly IMigration[] = [
  {
    version: 1,
    name: 'meta and audit',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE audit (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        ts      TEXT NOT NULL,
        user    TEXT NOT NULL,
        action  TEXT NOT NULL,
        target  TEXT,
        details TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_user_ts ON audit (user, ts);
    `
  },
  {
    version: 2,
    name: 'ssh credentials and jobs',
    sql: `
      CREATE TABLE credentials (
        user         TEXT NOT NULL,
        cluster      TEXT NOT NULL,
        cluster_user TEXT NOT NULL,
        public_key   TEXT NOT NULL,
        -- AES-256-GCM under HPC_BRIDGE_SECRET_KEY: "v1:" iv "." tag "." ciphertext (base64)
        private_key  TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        PRIMARY KEY (user, cluster)
      );
      CREATE TABLE jobs (
        id               TEXT PRIMARY KEY,
        owner            TEXT NOT NULL,
        cluster          TEXT NOT NULL,
        state            TEXT NOT NULL,
        terminal         INTEGER NOT NULL DEFAULT 0,
        submitted_at     TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        resubmitted_from TEXT,
        workdir          TEXT NOT NULL,
        cluster_user     TEXT NOT NULL,
        webhook_url      TEXT,
        request          TEXT NOT NULL,
        job              TEXT NOT NULL
      );
      CREATE INDEX jobs_owner ON jobs (owner, submitted_at);
      CREATE INDEX jobs_active ON jobs (cluster, terminal);
    `
  },
  {
    version: 3,
    name: 'storage share links and upload sessions',
    sql: `
      CREATE TABLE share_links (
        id          TEXT PRIMARY KEY,
        tier        TEXT NOT NULL,
        owner       TEXT NOT NULL,
        -- the path inside the tier, as the owner sees it
        path        TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        revoked_at  TEXT
      );
      CREATE INDEX share_links_owner ON share_links (owner, created_at);
      CREATE TABLE upload_sessions (
        id            TEXT PRIMARY KEY,
        tier          TEXT NOT NULL,
        owner         TEXT NOT NULL,
        path          TEXT NOT NULL,
        s3_upload_id  TEXT NOT NULL,
        mode          TEXT NOT NULL,
        size          INTEGER NOT NULL,
        part_size     INTEGER NOT NULL,
        part_count    INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        expires_at    TEXT NOT NULL
      );
      CREATE INDEX upload_sessions_owner ON upload_sessions (owner);
    `
  },
  {
    version: 4,
    name: 'serving endpoints and replicas',
    sql: `
      CREATE TABLE endpoints (
        id          TEXT PRIMARY KEY,
        owner       TEXT NOT NULL,
        name        TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        -- the whole record (JSON): model, provider, resources, state, upstream key, …
        record      TEXT NOT NULL,
        UNIQUE (owner, name)
      );
      CREATE TABLE replicas (
        id           TEXT PRIMARY KEY,
        endpoint_id  TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
        -- pending, starting, ready, draining (active) or stopped, failed
        state        TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        -- the whole record (JSON), with the provider's handle
        record       TEXT NOT NULL
      );
      CREATE INDEX replicas_endpoint ON replicas (endpoint_id, created_at);
      CREATE INDEX replicas_state ON replicas (state);
    `
  },
  {
    version: 5,
    name: 'endpoint API keys and usage',
    sql: `
      CREATE TABLE endpoint_keys (
        id                  TEXT PRIMARY KEY,
        endpoint_id         TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
        owner               TEXT NOT NULL,
        name                TEXT NOT NULL,
        -- SHA-256 hex of the whole key; the key itself is never stored
        key_hash            TEXT NOT NULL UNIQUE,
        -- "hpcb_" and the first characters, to recognise a key in a list
        prefix              TEXT NOT NULL,
        requests_per_minute INTEGER,
        token_budget        INTEGER,
        created_at          TEXT NOT NULL,
        revoked_at          TEXT,
        last_used_at        TEXT
      );
      CREATE INDEX endpoint_keys_endpoint ON endpoint_keys (endpoint_id, created_at);
      CREATE TABLE endpoint_usage (
        key_id            TEXT NOT NULL REFERENCES endpoint_keys (id) ON DELETE CASCADE,
        endpoint_id       TEXT NOT NULL,
        -- minutes since the epoch (UTC)
        minute            INTEGER NOT NULL,
        requests          INTEGER NOT NULL,
        errors            INTEGER NOT NULL,
        prompt_tokens     INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        latency_ms_sum    REAL NOT NULL,
        -- latencies the sample was drawn from, and the sample (JSON array of ms)
        latency_seen      INTEGER NOT NULL,
        latency_sample    TEXT NOT NULL,
        PRIMARY KEY (key_id, minute)
      );
      CREATE INDEX endpoint_usage_endpoint ON endpoint_usage (endpoint_id, minute);
    `
  },
  {
    version: 6,
    name: 'backend health samples',
    sql: `
      CREATE TABLE health_samples (
        -- ISO time of the check
        ts          TEXT NOT NULL,
        -- hub, cluster:NAME, s3:NAME
        backend     TEXT NOT NULL,
        -- ok, degraded or down
        status      TEXT NOT NULL,
        latency_ms  REAL NOT NULL,
        detail      TEXT
      );
      CREATE INDEX health_samples_ts ON health_samples (ts, backend);
    `
  },
  {
    version: 7,
    name: 'courses',
    sql: `
      CREATE TABLE courses (
        -- the hub group
        name        TEXT PRIMARY KEY,
        title       TEXT,
        -- JSON: the shared endpoint and dataset (src/courses/table.ts)
        settings    TEXT NOT NULL DEFAULT '{}',
        updated_by  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      -- Which endpoint key a student got for a course (the key itself is in endpoint_keys).
      CREATE TABLE course_keys (
        key_id      TEXT PRIMARY KEY,
        course      TEXT NOT NULL,
        student     TEXT NOT NULL,
        endpoint_id TEXT NOT NULL,
        created_at  TEXT NOT NULL
      );
      CREATE INDEX course_keys_course ON course_keys (course, student);
    `
  },
  {
    version: 8,
    name: 'course jobs',
    sql: `
      -- Jobs submitted with a course's job profile: what its per-student limits count.
      CREATE TABLE course_jobs (
        job_id      TEXT PRIMARY KEY,
        course      TEXT NOT NULL,
        student     TEXT NOT NULL,
        created_at  TEXT NOT NULL
      );
      CREATE INDEX course_jobs_student ON course_jobs (course, student);
    `
  },
  {
    version: 9,
    name: 'endpoint key token counters',
    sql: `
      -- Tokens charged to the key (settled requests) and held by its requests in flight:
      -- the budget check is one conditional UPDATE of these (src/endpoints/usage.ts).
      ALTER TABLE endpoint_keys ADD COLUMN tokens_used INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE endpoint_keys ADD COLUMN tokens_reserved INTEGER NOT NULL DEFAULT 0;
      UPDATE endpoint_keys SET tokens_used = COALESCE(
        (SELECT SUM(prompt_tokens + completion_tokens) FROM endpoint_usage
          WHERE endpoint_usage.key_id = endpoint_keys.id), 0);
      `
  },
  {
    version: 10,
    name: 'storage reservations, write claims, link versions',
    sql: `
      -- Bytes promised to writes in flight (streamed PUTs, copies, upload sessions): they
      -- count toward a scope's usage until released or expired.
      CREATE TABLE storage_reservations (
        id          TEXT PRIMARY KEY,
        -- the usage scope: tier + root
        scope       TEXT NOT NULL,
        -- the scope + the path written (or the folder a copy writes into)
        target      TEXT NOT NULL,
        bytes       INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL
      );
      CREATE INDEX storage_reservations_scope ON storage_reservations (scope, expires_at);
      -- One writer per file at a time: a second one is refused at once.
      CREATE TABLE storage_claims (
        target      TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        expires_at  TEXT NOT NULL
      );
      ALTER TABLE upload_sessions ADD COLUMN overwrite INTEGER NOT NULL DEFAULT 1;
      CREATE INDEX upload_sessions_expires ON upload_sessions (expires_at);
      -- size:mtime of the file when the link was made; null for older links
      ALTER TABLE share_links ADD COLUMN version TEXT;
      `
  },
  {
    version: 11,
    name: 'endpoint usage outlives endpoints and keys',
    sql: `
      -- Usage is accounting: no foreign key (deleting an endpoint deleted its usage), and
      -- who spent it and on what is kept in the row itself.
      CREATE TABLE endpoint_usage_v11 (
        key_id            TEXT NOT NULL,
        endpoint_id       TEXT NOT NULL,
        -- the key's owner (who spent the tokens), the endpoint's owner and name, the key's name
        owner             TEXT NOT NULL,
        endpoint_owner    TEXT NOT NULL,
        endpoint_name     TEXT NOT NULL,
        key_name          TEXT NOT NULL,
        minute            INTEGER NOT NULL,
        requests          INTEGER NOT NULL,
        errors            INTEGER NOT NULL,
        prompt_tokens     INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        latency_ms_sum    REAL NOT NULL,
        latency_seen      INTEGER NOT NULL,
        latency_sample    TEXT NOT NULL,
        PRIMARY KEY (key_id, minute)
      );
      INSERT INTO endpoint_usage_v11
        SELECT u.key_id, u.endpoint_id, COALESCE(k.owner, ''), COALESCE(e.owner, ''),
               COALESCE(e.name, ''), COALESCE(k.name, ''), u.minute, u.requests, u.errors,
               u.prompt_tokens, u.completion_tokens, u.latency_ms_sum, u.latency_seen,
               u.latency_sample
        FROM endpoint_usage u
        LEFT JOIN endpoint_keys k ON k.id = u.key_id
        LEFT JOIN endpoints e ON e.id = u.endpoint_id;
      DROP TABLE endpoint_usage;
      ALTER TABLE endpoint_usage_v11 RENAME TO endpoint_usage;
      CREATE INDEX endpoint_usage_endpoint ON endpoint_usage (endpoint_id, minute);
      CREATE INDEX endpoint_usage_owner ON endpoint_usage (minute, owner);
    `
  },
  {
    version: 12,
    name: 'declared job data and lineage',
    sql: `
      -- What a job with declared inputs/outputs needs at its end: the owner's groups at
      -- submit, the resolved inputs (with versions) and outputs, the notebook's hash.
      CREATE TABLE job_data_plans (
        job_id      TEXT PRIMARY KEY,
        plan        TEXT NOT NULL,
        created_at  TEXT NOT NULL
      );
      -- One row per object a job wrote and version of it.
      CREATE TABLE lineage_objects (
        tier             TEXT NOT NULL,
        -- the scope's root (an S3 prefix or a cluster path): per-user tiers share paths
        scope_root       TEXT NOT NULL,
        -- the path inside the tier (group folder first)
        path             TEXT NOT NULL,
        version          TEXT NOT NULL,
        job_id           TEXT NOT NULL,
        element          INTEGER NOT NULL,
        owner            TEXT NOT NULL,
        job_name         TEXT NOT NULL,
        notebook_path    TEXT NOT NULL,
        notebook_sha256  TEXT NOT NULL,
        parameters       TEXT NOT NULL,
        -- [{tier, scopeRoot, path, version}]
        inputs           TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        PRIMARY KEY (tier, scope_root, path, version)
      );
      CREATE INDEX lineage_objects_job ON lineage_objects (job_id);
    `
  },
  {
    version: 13,
    name: 'triggers',
    sql: `
      -- A durable rule of its owner: a source (JSON), an action (JSON), limits (JSON), and
      -- the owner's identity when it was made (the runs act with it).
      CREATE TABLE triggers (
        id          TEXT PRIMARY KEY,
        owner       TEXT NOT NULL,
        name        TEXT NOT NULL,
        source      TEXT NOT NULL,
        action      TEXT NOT NULL,
        limits      TEXT NOT NULL,
        state       TEXT NOT NULL,
        identity    TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE INDEX triggers_owner ON triggers (owner, created_at);
      -- What the trigger's source has seen so far (source-specific JSON).
      CREATE TABLE trigger_cursors (
        trigger_id  TEXT PRIMARY KEY REFERENCES triggers (id) ON DELETE CASCADE,
        cursor      TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      -- One row per event; (trigger_id, key) makes an event fire once.
      CREATE TABLE trigger_runs (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT NOT NULL UNIQUE,
        trigger_id  TEXT NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
        key         TEXT NOT NULL,
        event       TEXT NOT NULL,
        state       TEXT NOT NULL,
        fired_at    TEXT NOT NULL,
        -- when the action was claimed (starting), its attempts, the next attempt
        claimed_at  TEXT,
        attempts    INTEGER NOT NULL DEFAULT 0,
        retry_at    TEXT,
        started_at  TEXT,
        ended_at    TEXT,
        -- the job id reserved before a submit
        job_id      TEXT,
        result      TEXT,
        reason      TEXT,
        UNIQUE (trigger_id, key)
      );
      CREATE INDEX trigger_runs_state ON trigger_runs (state, trigger_id);
      CREATE INDEX trigger_runs_started ON trigger_runs (trigger_id, started_at);
    `
  },
  {
    version: 14,
    name: 'user models',
    sql: `
      -- Model files users registered under a name of their own (one JSON record per row).
      CREATE TABLE user_models (
        owner       TEXT NOT NULL,
        name        TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        record      TEXT NOT NULL,
        PRIMARY KEY (owner, name)
      );
    `
  },
  {
    version: 16,
    name: 'cluster kernels',
    sql: `
      -- Notebook kernels running as SLURM jobs of their owners (one JSON record per row;
      -- the kernel's HMAC key is never stored).
      CREATE TABLE kernels (
        id            TEXT PRIMARY KEY,
        owner         TEXT NOT NULL,
        cluster       TEXT NOT NULL,
        state         TEXT NOT NULL,
        terminal      INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        lease_until   TEXT NOT NULL,
        runtime_dir   TEXT NOT NULL,
        record        TEXT NOT NULL
      );
      CREATE INDEX kernels_owner ON kernels (owner, created_at);
      CREATE INDEX kernels_active ON kernels (terminal, cluster);
    `
  },
  {
    version: 17,
    name: 'stage-out copies',
    sql: `
      -- Each file a job's stage-out copied, with the destination's version right after:
      -- a resumed stage-out copies only what is missing or has changed since.
      CREATE TABLE stage_out_copies (
        job_id       TEXT NOT NULL,
        output       TEXT NOT NULL,
        path         TEXT NOT NULL,
        source_size  INTEGER,
        version      TEXT NOT NULL,
        PRIMARY KEY (job_id, output, path)
      );
    `
  },
  {
    version: 18,
    name: 'job keys',
    sql: `
      -- A key the bridge made for a job that declared the endpoint; NULL: a user's key.
      ALTER TABLE endpoint_keys ADD COLUMN job_id TEXT;
      CREATE INDEX endpoint_keys_job ON endpoint_keys (job_id) WHERE job_id IS NOT NULL;
    `
  },
  {
    version: 19,
    name: 'assistant',
    sql: `
      -- The course's switch of the editor's assistant: {"completion": bool, "chat": bool}.
      ALTER TABLE courses ADD COLUMN assistant TEXT NOT NULL
        DEFAULT '{"completion":false,"chat":false}';
      -- The key the bridge made and keeps for a user's assistant on an own or shared
      -- endpoint (its secret was never kept); course endpoints use the course key.
      CREATE TABLE assistant_keys (
        owner        TEXT NOT NULL,
        endpoint_id  TEXT NOT NULL,
        key_id       TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        PRIMARY KEY (owner, endpoint_id)
      );
      -- Chat history, per user.
      CREATE TABLE conversations (
        id           TEXT PRIMARY KEY,
        owner        TEXT NOT NULL,
        endpoint_id  TEXT NOT NULL,
        -- NULL until the first message names it
        title        TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
      );
      CREATE INDEX conversations_owner ON conversations (owner, updated_at);
      CREATE TABLE conversation_messages (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        role             TEXT NOT NULL,
        content          TEXT NOT NULL,
        context          TEXT,
        tokens           INTEGER,
        created_at       TEXT NOT NULL
      );
      CREATE INDEX conversation_messages_of ON conversation_messages (conversation_id, seq);
      -- What the assistant's requests cost, per user, endpoint, purpose and UTC day.
      CREATE TABLE assistant_usage (
        user         TEXT NOT NULL,
        endpoint_id  TEXT NOT NULL,
        purpose      TEXT NOT NULL,
        day          TEXT NOT NULL,
        requests     INTEGER NOT NULL DEFAULT 0,
        tokens       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user, endpoint_id, purpose, day)
      );
    `
  },
  replicasMigration,
  replicaLimits,
  sharedEndpoints,
  replicaLiveness
];
