import type { Migration } from "./migration.js";

/** The PostgreSQL schema: numbered migrations, applied once each, in order (the numbering is shared with SQLite). */
export const POSTGRES_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE threads (
        id TEXT PRIMARY KEY,
        repo TEXT NOT NULL,
        installation_id BIGINT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        waiting_on TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX threads_status_waiting ON threads (status, waiting_on, created_at);
      CREATE INDEX threads_updated ON threads (updated_at);
      CREATE INDEX threads_repo_updated ON threads (repo, updated_at);

      CREATE TABLE events (
        thread_id TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        data JSONB NOT NULL,
        PRIMARY KEY (thread_id, seq)
      );

      CREATE TABLE inbox (
        id BIGSERIAL PRIMARY KEY,
        delivery_id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload JSONB NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at TIMESTAMPTZ NOT NULL,
        leased_by TEXT,
        lease_until TIMESTAMPTZ,
        received_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        note TEXT,
        last_error TEXT
      );
      CREATE INDEX inbox_queued ON inbox (id) WHERE status = 'queued';

      CREATE TABLE locks (
        key TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL,
        step_seq INTEGER NOT NULL,
        acquired_at TIMESTAMPTZ NOT NULL
      );

      CREATE TABLE deployments (
        deployment_id BIGINT PRIMARY KEY,
        repo TEXT NOT NULL,
        component TEXT NOT NULL,
        environment TEXT NOT NULL,
        sha TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        step_seq INTEGER NOT NULL,
        run_id BIGINT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'success', 'failure')),
        created_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ
      );
      CREATE INDEX deployments_run ON deployments (run_id);
      CREATE INDEX deployments_step ON deployments (thread_id, step_seq);
      CREATE INDEX deployments_history ON deployments (repo, state, finished_at);
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE refs (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      );
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE thread_leases (
        thread_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        lease_until TIMESTAMPTZ NOT NULL
      );
      ALTER TABLE inbox ADD COLUMN partition_key TEXT;
    `,
  },
  {
    version: 4,
    sql: `
      CREATE INDEX inbox_finished ON inbox (finished_at);
    `,
  },
  {
    version: 5,
    sql: `
      ALTER TABLE threads ADD COLUMN waiting_lock TEXT;
      UPDATE threads SET waiting_lock = substr(waiting_on, 6)
        WHERE status = 'waiting_for_lock' AND waiting_on LIKE 'lock %';
      CREATE INDEX threads_waiting_lock ON threads (waiting_lock, created_at) WHERE waiting_lock IS NOT NULL;
    `,
  },
  {
    version: 6,
    sql: `
      CREATE TABLE manual_locks (
        repo TEXT NOT NULL,
        environment TEXT NOT NULL,
        component TEXT NOT NULL,
        reason TEXT NOT NULL,
        locked_by TEXT NOT NULL,
        locked_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (repo, environment, component)
      );
    `,
  },
];
