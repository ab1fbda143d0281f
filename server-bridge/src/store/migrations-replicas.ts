/**
 * Migration 20: what several bridge replicas on one database share. Portable SQL (it
 * also runs on PostgreSQL): times are computed by the bridge, not by the database.
 */
import type { IMigration } from './migrations';

export const replicasMigration: IMigration = {
  version: 20,
  name: 'leases and events',
  sql: `
    -- A named lease (e.g. "singletons"): the replica that holds it until expires_at
    -- (epoch milliseconds) runs what only one replica may run.
    CREATE TABLE leases (
      name         TEXT PRIMARY KEY,
      holder       TEXT NOT NULL,
      expires_at   BIGINT NOT NULL,
      acquired_at  TEXT NOT NULL
    );
    -- Job and kernel changes, tailed by every replica for its event streams and replayed
    -- to a stream that reconnects with Last-Event-ID; the leader deletes old rows.
    CREATE TABLE events (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      topic       TEXT NOT NULL,
      -- the user the event concerns (a job's or kernel's owner)
      subject     TEXT NOT NULL,
      payload     TEXT NOT NULL,
      created_at  TEXT NOT NULL
    );
    CREATE INDEX events_subject ON events (subject, id);
    CREATE INDEX events_created ON events (created_at);
  `
};
