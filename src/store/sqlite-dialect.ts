import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Dialect, SqlParam, SqlResult, SqlRunner } from "./dialect.js";

/**
 * SQLite through better-sqlite3: one connection, synchronous underneath. A transaction spans awaits,
 * so statements queue behind an open one (a statement run meanwhile would join it); transactions
 * are IMMEDIATE, so processes sharing the file serialize on the write lock instead of failing.
 */
export class SqliteDialect implements Dialect {
  readonly sql = { skipLocked: "", forUpdate: "", jsonNull: "'null'" };
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  /** Settles when the open transaction ends; null when none is open. */
  private open: Promise<void> | null = null;
  private readonly direct: SqlRunner = {
    query: async (sql, params) => this.run(sql, params),
    exec: async (script) => void this.db.exec(script),
  };

  constructor(path: string) {
    if (path !== ":memory:" && path !== "") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("foreign_keys = ON");
  }

  private run<R>(sql: string, params: readonly SqlParam[] = []): SqlResult<R> {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    if (stmt.reader) {
      const rows = stmt.all(...params) as R[];
      return { rows, changes: rows.length };
    }
    return { rows: [], changes: stmt.run(...params).changes };
  }

  async query<R>(sql: string, params?: readonly SqlParam[]): Promise<SqlResult<R>> {
    // The check and the statement run in one turn: no transaction can open in between.
    while (this.open) await this.open;
    return this.run<R>(sql, params);
  }

  async exec(script: string): Promise<void> {
    while (this.open) await this.open;
    this.db.exec(script);
  }

  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    while (this.open) await this.open;
    let end!: () => void;
    this.open = new Promise((resolve) => (end = resolve));
    try {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(this.direct);
        this.db.exec("COMMIT");
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw err;
      }
    } finally {
      this.open = null;
      end();
    }
  }

  inList(column: string, values: readonly string[], negate = false) {
    if (values.length === 0) return { sql: negate ? "1 = 1" : "1 = 0", params: [] };
    const list = values.map(() => "?").join(", ");
    return { sql: `${column} ${negate ? "NOT IN" : "IN"} (${list})`, params: [...values] };
  }

  async lockMigrations(): Promise<void> {}

  async close(): Promise<void> {
    while (this.open) await this.open;
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}
