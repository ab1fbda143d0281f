/**
 * Migration 21: the state that decides a limit, kept in the store so that every bridge
 * replica sharing the database sees it (docs/replicas.md).
 */
import type { IMigration } from './migrations';

export const replicaLimits: IMigration = {
  version: 21,
  name: 'limits shared by bridge replicas',
  sql: `
    -- Course job submits admitted and not yet stored as jobs; a row outlives a
    -- replica that died mid-submit until expires_at.
    CREATE TABLE course_job_admissions (
      id          TEXT PRIMARY KEY,
      course      TEXT NOT NULL,
      student     TEXT NOT NULL,
      expires_at  TEXT NOT NULL
    );
    CREATE INDEX course_job_admissions_student
      ON course_job_admissions (course, student, expires_at);
    -- Requests admitted per API key and calendar minute (epoch ms / 60000).
    CREATE TABLE gateway_rate_windows (
      key_id    TEXT NOT NULL,
      minute    INTEGER NOT NULL,
      requests  INTEGER NOT NULL,
      PRIMARY KEY (key_id, minute)
    );
    -- A storage scope's measured usage with the writes settled since; bytes NULL: to be
    -- measured again. version counts the changes, so that a walk that started before
    -- one does not write back a figure that misses it.
    CREATE TABLE storage_usage (
      scope        TEXT PRIMARY KEY,
      bytes        INTEGER,
      measured_at  TEXT NOT NULL,
      version      INTEGER NOT NULL
    );
    -- Server-side copies and their progress (record: the contract's Transfer as JSON).
    CREATE TABLE storage_transfers (
      id           TEXT PRIMARY KEY,
      owner        TEXT NOT NULL,
      record       TEXT NOT NULL,
      finished_at  TEXT
    );
  `
};

export const sharedEndpoints: IMigration = {
  version: 22,
  name: 'endpoints shared by several bridges',
  sql: `
    -- Bumped by every write of the record: a write checks it, so that no bridge
    -- overwrites a change another one made meanwhile (src/endpoints/control.ts).
    ALTER TABLE endpoints ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    -- The last request a bridge that does not run the loop served (at most 1/s).
    ALTER TABLE endpoints ADD COLUMN last_request_at TEXT;
  `
};
