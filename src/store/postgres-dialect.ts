import pg from "pg";
import type { Dialect, SqlParam, SqlResult, SqlRunner } from "./dialect.js";

/** Advisory lock key serializing migrations across replicas starting together. */
const MIGRATION_LOCK = 7_405_811_002;

const OID = { int8: 20, json: 114, timestamptz: 1184, jsonb: 3802 } as const;
const defaultTimestamp = pg.types.getTypeParser(OID.timestamptz, "text") as (s: string) => Date;

/** Rows as SQLite returns them: BIGINT as number, TIMESTAMPTZ as ISO string, JSON as its text. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid === OID.int8) return (s: string) => Number(s);
    if (oid === OID.timestamptz) return (s: string) => defaultTimestamp(s).toISOString();
    if (oid === OID.json || oid === OID.jsonb) return (s: string) => s;
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig["getTypeParser"],
};

/** `?` placeholders become `$1`, `$2`, ... (outside quoted literals). */
const numbered = new Map<string, string>();
export function numberPlaceholders(sql: string): string {
  let out = numbered.get(sql);
  if (out !== undefined) return out;
  let n = 0;
  out = sql.replace(/'(?:[^']|'')*'|\?/g, (m) => (m === "?" ? `$${++n}` : m));
  numbered.set(sql, out);
  return out;
}

function runnerOf(db: pg.Pool | pg.PoolClient): SqlRunner {
  return {
    async query<R>(sql: string, params: readonly SqlParam[] = []): Promise<SqlResult<R>> {
      const result = await db.query(numberPlaceholders(sql), params as unknown[]);
      return { rows: result.rows as R[], changes: result.rowCount ?? 0 };
    },
    async exec(script: string): Promise<void> {
      await db.query(script);
    },
  };
}

/**
 * PostgreSQL for several replicas: a pool, transactions on one client, inbox claims that skip rows
 * other claimers hold, and an advisory lock around migrations.
 */
export class PostgresDialect implements Dialect {
  readonly sql = {
    skipLocked: " FOR UPDATE SKIP LOCKED",
    forUpdate: " FOR UPDATE",
    jsonNull: "'null'::jsonb",
  };
  private readonly pool: pg.Pool;
  private readonly runner: SqlRunner;

  /** A connection string, or a pool config (e.g. with `options: "-c search_path=..."`). */
  constructor(config: string | pg.PoolConfig) {
    this.pool = new pg.Pool({
      ...(typeof config === "string" ? { connectionString: config } : config),
      types,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on("error", () => {});
    this.runner = runnerOf(this.pool);
  }

  query<R>(sql: string, params?: readonly SqlParam[]): Promise<SqlResult<R>> {
    return this.runner.query<R>(sql, params);
  }

  exec(script: string): Promise<void> {
    return this.runner.exec(script);
  }

  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(runnerOf(client));
      await client.query("COMMIT");
      return result;
    } catch (err) {
      // The original error matters; a failed rollback only means the connection is gone.
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  inList(column: string, values: readonly string[], negate = false) {
    const sql = `${column} = ANY(?::text[])`;
    return { sql: negate ? `NOT (${sql})` : sql, params: [[...values]] };
  }

  async lockMigrations(tx: SqlRunner): Promise<void> {
    await tx.query("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK]);
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}
