import { schema } from "./schema.js";

export const SQLITE_SCHEMA = schema({
  bigint: "INTEGER",
  timestamp: "TEXT",
  json: "TEXT",
  serialKey: "INTEGER PRIMARY KEY AUTOINCREMENT",
  now: "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
  eventsTableOptions: " WITHOUT ROWID",
  inboxQueuedIndex: "CREATE INDEX inbox_queued ON inbox (status, due_at, id)",
});
