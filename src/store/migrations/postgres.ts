import { schema } from "./schema.js";

export const POSTGRES_SCHEMA = schema({
  bigint: "BIGINT",
  timestamp: "TIMESTAMPTZ",
  json: "JSONB",
  serialKey: "BIGSERIAL PRIMARY KEY",
  now: "now()",
  eventsTableOptions: "",
  inboxQueuedIndex: "CREATE INDEX inbox_queued ON inbox (id) WHERE status = 'queued'",
});
