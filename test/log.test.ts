import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { tidyDestination, tidyLogLine } from "../src/log.js";

describe("a log line", () => {
  it("carries one name, the innermost, when child loggers name themselves", () => {
    const lines: string[] = [];
    const log = pino({}, tidyDestination({ write: (text) => lines.push(text) }));
    log.child({ name: "probot" }).child({ name: "event", id: "d-1" }).info("received");

    expect(lines).toHaveLength(1);
    expect(lines[0]!.match(/"name"/g)).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ name: "event", id: "d-1", msg: "received" });
  });

  it("reports a client's mistake as a warning without stack traces", () => {
    const raw = JSON.stringify({
      level: 50,
      name: "event",
      err: {
        message: "signature does not match",
        stack: "Error: signature does not match\n    at verify (x.js:1:1)",
        status: 400,
        aggregateErrors: [
          { message: "signature does not match", stack: "Error\n    at y.js:2:2", status: 400 },
        ],
      },
      msg: "signature does not match",
    });

    const tidied = JSON.parse(tidyLogLine(raw)) as { level: number; err: Record<string, unknown> };

    expect(tidied.level).toBe(40);
    expect(JSON.stringify(tidied)).not.toContain("stack");
    expect(tidied.err.message).toBe("signature does not match");
  });

  it("treats an aggregate of client mistakes as one", () => {
    const raw = JSON.stringify({
      level: 50,
      name: "probot",
      err: {
        type: "AggregateError",
        stack: "AggregateError: bad signature\n    at r.js:1:1",
        aggregateErrors: [{ message: "bad signature", stack: "Error\n    at v.js:1:1", status: 400 }],
      },
    });
    const tidied = tidyLogLine(raw);
    expect(JSON.parse(tidied)).toMatchObject({ level: 40 });
    expect(tidied).not.toContain("stack");
  });

  it("keeps the stack of a server error", () => {
    const raw = JSON.stringify({
      level: 50,
      err: { message: "boom", stack: "Error: boom\n    at z.js:3:3" },
    });
    expect(JSON.parse(tidyLogLine(raw))).toMatchObject({
      level: 50,
      err: { stack: "Error: boom\n    at z.js:3:3" },
    });
  });

  it("writes a line with one name and no error as it came, byte for byte", () => {
    const raw = '{"level":30,"name":"http", "msg":"POST /api/github/webhooks 200 1.2ms"}\n';
    expect(tidyLogLine(raw)).toBe(raw);
  });

  it("passes a line that is not JSON through unchanged", () => {
    expect(tidyLogLine("plain text\n")).toBe("plain text\n");
  });
});
