/**
 * The schema, as numbered migrations applied once each, in order, written once for both dialects:
 * only the column types and a few table and index options differ, and each dialect names its own.
 * Applied migrations never change (a database records the versions it has).
 */

export interface Migration {
  version: number;
  /** Statements run together in the migrating transaction. */
  sql: string;
}

export interface ColumnTypes {
  bigint: string;
  timestamp: string;
  json: string;
  /** An auto-numbered primary key. */
  serialKey: string;
  /** The current time, as a column default. */
  now: string;
  eventsTableOptions: string;
  /** The index the inbox claims read. */
  inboxQueuedIndex: string;
}

export interface Schema {
  /** Creates the table recording applied versions, if missing. */
  versionTable: string;
  migrations: Migration[];
}

export const schema = (t: ColumnTypes): Schema => ({
  versionTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at ${t.timestamp} NOT NULL DEFAULT ${t.now}
  )`,
  migrations: [
    {
      version: 1,
      sql: `
      CREATE TABLE threads (
        id TEXT PRIMARY KEY,
        repo TEXT NOT NULL,
        installation_id ${t.bigint} NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        waiting_on TEXT,
        created_at ${t.timestamp} NOT NULL,
        updated_at ${t.timestamp} NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX threads_status_waiting ON threads (status, waiting_on, created_at);
      CREATE INDEX threads_updated ON threads (updated_at);
      CREATE INDEX threads_repo_updated ON threads (repo, updated_at);

      CREATE TABLE events (
        thread_id TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        at ${t.timestamp} NOT NULL,
        data ${t.json} NOT NULL,
        PRIMARY KEY (thread_id, seq)
      )${t.eventsTableOptions};

      CREATE TABLE inbox (
        id ${t.serialKey},
        delivery_id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload ${t.json} NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at ${t.timestamp} NOT NULL,
        leased_by TEXT,
        lease_until ${t.timestamp},
        received_at ${t.timestamp} NOT NULL,
        finished_at ${t.timestamp},
        note TEXT,
        last_error TEXT
      );
      ${t.inboxQueuedIndex};

      CREATE TABLE locks (
        key TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL,
        step_seq INTEGER NOT NULL,
        acquired_at ${t.timestamp} NOT NULL
      );

      CREATE TABLE deployments (
        deployment_id ${t.bigint} PRIMARY KEY,
        repo TEXT NOT NULL,
        component TEXT NOT NULL,
        environment TEXT NOT NULL,
        sha TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        step_seq INTEGER NOT NULL,
        run_id ${t.bigint},
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'success', 'failure')),
        created_at ${t.timestamp} NOT NULL,
        finished_at ${t.timestamp}
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
        updated_at ${t.timestamp} NOT NULL
      );
    `,
    },
    {
      version: 3,
      sql: `
      CREATE TABLE thread_leases (
        thread_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        lease_until ${t.timestamp} NOT NULL
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
        locked_at ${t.timestamp} NOT NULL,
        PRIMARY KEY (repo, environment, component)
      );
    `,
    },
  ],
});
