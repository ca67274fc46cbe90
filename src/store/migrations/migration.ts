export interface Migration {
  version: number;
  /** Statements run together in the migrating transaction. */
  sql: string;
}
