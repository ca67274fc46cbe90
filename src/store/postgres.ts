import type pg from "pg";
import { POSTGRES_SCHEMA } from "./migrations/postgres.js";
import { PostgresDialect } from "./postgres-dialect.js";
import { SqlStore } from "./sql-store.js";

/** The store for several replicas, on PostgreSQL. */
export class PostgresStore extends SqlStore {
  /** A connection string, or a pool config (e.g. with `options: "-c search_path=..."`). */
  constructor(config: string | pg.PoolConfig) {
    super(new PostgresDialect(config), POSTGRES_SCHEMA);
  }
}
