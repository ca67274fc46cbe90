/** The logging surface deploybot uses; Probot's pino logger satisfies it. */
export interface Log {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A logger that drops everything, for tools and tests that do not care. */
export const silentLog: Log = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/**
 * Tidies one JSON log line before it is written:
 * - one `name`: a pino child logger repeats the keys of its parent's bindings (Probot names its
 *   children `probot`, then `event`, ...), and JSON readers disagree on duplicates; the innermost wins;
 * - a client's mistake (an error with a 4xx status, such as a webhook with a bad signature) is a
 *   warning without stack traces: the stack says nothing about the request that was refused.
 * A line that is not JSON is passed through unchanged.
 */
export function tidyLogLine(line: string): string {
  // Most lines (an access line, a step) have one name and no error: nothing to tidy, and parsing
  // each one again would cost more than writing it.
  const firstName = line.indexOf('"name":');
  if (!line.includes('"err":') && line.indexOf('"name":', firstName + 1) === -1) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== "object" || entry === null) return line;
  if (isClientMistake(entry.err)) {
    entry.err = withoutStacks(entry.err);
    if (typeof entry.level === "number" && entry.level > 40) entry.level = 40;
  }
  return `${JSON.stringify(entry)}\n`;
}

/** An error with a 4xx status, or an aggregate of such errors (how the webhook middleware reports them). */
function isClientMistake(err: unknown): err is object {
  if (typeof err !== "object" || err === null) return false;
  const { status, aggregateErrors } = err as { status?: unknown; aggregateErrors?: unknown };
  if (typeof status === "number") return status >= 400 && status < 500;
  return (
    Array.isArray(aggregateErrors) && aggregateErrors.length > 0 && aggregateErrors.every(isClientMistake)
  );
}

function withoutStacks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutStacks);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "stack")
      .map(([key, inner]) => [key, withoutStacks(inner)]),
  );
}

/** A pino destination that writes tidied lines to `out` (standard output by default). */
export function tidyDestination(out: { write(text: string): unknown } = process.stdout) {
  return { write: (line: string) => out.write(tidyLogLine(line)) };
}
