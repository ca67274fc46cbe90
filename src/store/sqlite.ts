import { SQLITE_SCHEMA } from "./migrations/sqlite.js";
import { SqliteDialect } from "./sqlite-dialect.js";
import { SqlStore } from "./sql-store.js";

/** The embedded store: one SQLite file (WAL), or `:memory:`. */
export class SqliteStore extends SqlStore {
  constructor(path: string) {
    super(new SqliteDialect(path), SQLITE_SCHEMA);
  }
}
