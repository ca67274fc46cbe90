import type { Migration } from "./migration.js";

/** The SQLite schema: numbered migrations, applied once each, in order (the numbering is shared with PostgreSQL). */
export const SQLITE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE threads (
        id TEXT PRIMARY KEY,
        repo TEXT NOT NULL,
        installation_id INTEGER NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        waiting_on TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX threads_status_waiting ON threads (status, waiting_on, created_at);
      CREATE INDEX threads_updated ON threads (updated_at);
      CREATE INDEX threads_repo_updated ON threads (repo, updated_at);

      CREATE TABLE events (
        thread_id TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (thread_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at TEXT NOT NULL,
        leased_by TEXT,
        lease_until TEXT,
        received_at TEXT NOT NULL,
        finished_at TEXT,
        note TEXT,
        last_error TEXT
      );
      CREATE INDEX inbox_queued ON inbox (status, due_at, id);

      CREATE TABLE locks (
        key TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL,
        step_seq INTEGER NOT NULL,
        acquired_at TEXT NOT NULL
      );

      CREATE TABLE deployments (
        deployment_id INTEGER PRIMARY KEY,
        repo TEXT NOT NULL,
        component TEXT NOT NULL,
        environment TEXT NOT NULL,
        sha TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        step_seq INTEGER NOT NULL,
        run_id INTEGER,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'success', 'failure')),
        created_at TEXT NOT NULL,
        finished_at TEXT
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
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE thread_leases (
        thread_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        lease_until TEXT NOT NULL
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
        locked_at TEXT NOT NULL,
        PRIMARY KEY (repo, environment, component)
      );
    `,
  },
];
