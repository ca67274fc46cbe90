import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * A fresh PostgreSQL database per test, created next to the one TEST_DATABASE_URL names and
 * dropped afterwards, and the test's own reads of what the deploybot processes wrote there (plain
 * SQL, so the reads do not depend on the store's code).
 */

/** What .ci/run sets when it starts PostgreSQL; also the local default. */
export const DEFAULT_TEST_DATABASE_URL = "postgres://root@127.0.0.1:5432/test";

export interface ThreadRow {
  id: string;
  repo: string;
  status: string;
  waiting_on: string | null;
}

export interface EventRow {
  thread_id: string;
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

function adminUrl(): string {
  const url = new URL(process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL);
  url.pathname = "/postgres";
  return url.toString();
}

function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function asAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = adminUrl();
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL is not reachable at ${url} (${String(error)}). These tests run deploybot replicas on ` +
        "PostgreSQL and never skip: start it (.ci/run starts the local cluster and sets " +
        `TEST_DATABASE_URL=${DEFAULT_TEST_DATABASE_URL}), or set TEST_DATABASE_URL to a database on a ` +
        "server where this user may CREATE DATABASE.",
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export class TestDatabase {
  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly pool: pg.Pool,
  ) {}

  /** Creates `deploybot_<prefix>_<random>`; fails with what to do when PostgreSQL is not there. */
  static async create(prefix: string): Promise<TestDatabase> {
    const name = `deploybot_${prefix}_${randomBytes(5).toString("hex")}`;
    await asAdmin((client) => client.query(`CREATE DATABASE ${name}`));
    const url = databaseUrl(name);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    // Dropping the database at the end terminates whatever connection is still closing; that is the
    // teardown working, not a failure of the test.
    pool.on("error", () => undefined);
    return new TestDatabase(name, url, pool);
  }

  /** Closes the test's connections and drops the database (with any connection a process left). */
  async drop(): Promise<void> {
    await this.pool.end().catch(() => undefined);
    await asAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`));
  }

  /** Whether deploybot created its tables yet. */
  private async migrated(): Promise<boolean> {
    const { rows } = await this.pool.query<{ present: boolean }>(
      "SELECT to_regclass('public.events') IS NOT NULL AS present",
    );
    return rows[0]?.present === true;
  }

  async threads(): Promise<ThreadRow[]> {
    if (!(await this.migrated())) return [];
    const { rows } = await this.pool.query<ThreadRow>(
      "SELECT id, repo, status, waiting_on FROM threads ORDER BY created_at, id",
    );
    return rows;
  }

  async events(): Promise<EventRow[]> {
    if (!(await this.migrated())) return [];
    const { rows } = await this.pool.query<EventRow>(
      "SELECT thread_id, seq, type, data FROM events ORDER BY thread_id, seq",
    );
    return rows;
  }

  /** Inbox entries by status (queued, done, dead). */
  async inboxCounts(): Promise<Record<string, number>> {
    if (!(await this.migrated())) return {};
    const { rows } = await this.pool.query<{ status: string; count: string }>(
      "SELECT status, count(*) AS count FROM inbox GROUP BY status ORDER BY status",
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
  }
}
