/**
 * What differs between SQLite and PostgreSQL, and nothing else: the SQL store is written once over
 * this interface. Statements use `?` placeholders; a dialect rewrites them if it needs to. Rows come
 * back alike from both: integers as numbers, timestamps as ISO strings, JSON columns as JSON text.
 */

export type SqlParam = string | number | null | readonly string[];

export interface SqlResult<R> {
  rows: R[];
  /** Rows inserted, updated or deleted (for a statement with RETURNING, the rows returned). */
  changes: number;
}

/** Runs statements, alone or inside a transaction. */
export interface SqlRunner {
  query<R = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<SqlResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Dialect extends SqlRunner {
  /** Runs `fn` in one write transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * `column IN (values)` (or NOT IN) with its parameters: SQLite binds each value, PostgreSQL one
   * array (`= ANY(?)`). An empty list matches nothing (or, negated, everything).
   */
  inList(column: string, values: readonly string[], negate?: boolean): { sql: string; params: SqlParam[] };
  readonly sql: {
    /** Appended to the SELECT that picks a row to claim: PostgreSQL skips rows other claimers hold. */
    skipLocked: string;
    /** Appended to a SELECT that reads a row the transaction will update. */
    forUpdate: string;
    /** The JSON literal `null` as a value of a JSON column. */
    jsonNull: string;
  };
  /** Serializes migrations: nothing on SQLite (the transaction already does), an advisory lock on PostgreSQL. */
  lockMigrations(tx: SqlRunner): Promise<void>;
  close(): Promise<void>;
}

/** Runs a statement that writes at most one row: true when it wrote one. */
export async function wroteOne(db: SqlRunner, sql: string, params: readonly SqlParam[]): Promise<boolean> {
  return (await db.query(sql, params)).changes === 1;
}
