import { resolve } from "node:path";
import { PostgresStore } from "./postgres.js";
import { SqliteStore } from "./sqlite.js";
import type { Store } from "./store.js";

const ACCEPTED =
  "expected sqlite:<path> (e.g. sqlite:./data/deploybot.sqlite, sqlite::memory:), postgres://... or postgresql://...";

/** Opens the store named by DATABASE_URL and brings its schema up to date. */
export async function openStore(databaseUrl: string): Promise<Store> {
  let store: Store;
  if (databaseUrl.startsWith("sqlite:")) {
    const path = databaseUrl.slice("sqlite:".length);
    if (path === "") throw new Error(`DATABASE_URL: missing path after "sqlite:"; ${ACCEPTED}`);
    if (path.startsWith("//")) {
      throw new Error(
        `DATABASE_URL: use sqlite:<path> (e.g. sqlite:/var/lib/deploybot.sqlite), not sqlite://`,
      );
    }
    store = new SqliteStore(path === ":memory:" ? ":memory:" : resolve(process.cwd(), path));
  } else if (databaseUrl.startsWith("postgres://") || databaseUrl.startsWith("postgresql://")) {
    store = new PostgresStore(databaseUrl);
  } else {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(databaseUrl)?.[0] ?? "(no scheme)";
    throw new Error(`DATABASE_URL: unsupported scheme ${scheme}; ${ACCEPTED}`);
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
