/**
 * Migration 23: which replicas are alive, and who holds what, so that a replica's
 * clean-ups touch only what a dead replica left (docs/replicas.md).
 */
import type { IMigration } from './migrations';

export const replicaLiveness: IMigration = {
  version: 23,
  name: 'replica heartbeats and holders',
  sql: `
    -- Each replica writes its row every replicas.heartbeatSeconds (seen_at: epoch ms);
    -- one not seen for three times that is dead.
    CREATE TABLE replica_heartbeats (
      id          TEXT PRIMARY KEY,
      started_at  TEXT NOT NULL,
      seen_at     BIGINT NOT NULL
    );
    -- The replica whose request holds the reservation or claim (NULL: before 23).
    ALTER TABLE storage_reservations ADD COLUMN replica TEXT;
    ALTER TABLE storage_claims ADD COLUMN replica TEXT;
    -- Tokens each replica's requests in flight hold of a key (their sum is the key's
    -- tokens_reserved); what was held before 23 belongs to no replica.
    CREATE TABLE gateway_holds (
      key_id   TEXT NOT NULL,
      replica  TEXT NOT NULL,
      tokens   INTEGER NOT NULL,
      PRIMARY KEY (key_id, replica)
    );
    INSERT INTO gateway_holds (key_id, replica, tokens)
      SELECT id, '', tokens_reserved FROM endpoint_keys WHERE tokens_reserved > 0;
    -- Relayed kernel traffic per relaying replica: last_at (epoch ms), and whether a
    -- cell runs (a shell request relayed without its reply yet).
    CREATE TABLE kernel_activity (
      kernel_id  TEXT NOT NULL,
      replica    TEXT NOT NULL,
      last_at    BIGINT NOT NULL,
      busy       INTEGER NOT NULL,
      PRIMARY KEY (kernel_id, replica)
    );
  `
};
