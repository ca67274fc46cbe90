import { describe, expect, it } from "vitest";
import { relevantLogLines, runIdFromUrl } from "../../src/pipeline/failure.js";

const LOG = `2026-11-24T12:00:01.1234567Z ##[group]Run ./scripts/deploy.sh staging
2026-11-24T12:00:01.2000000Z Deploying backend to staging
2026-11-24T12:00:02.0000000Z Uploading artifact (12 MB)
2026-11-24T12:00:05.0000000Z Error: connect ECONNREFUSED 10.0.0.5:5432
2026-11-24T12:00:05.0000001Z     at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)
2026-11-24T12:00:05.0000002Z     at Migrator.run (/app/migrate.js:40:11)
2026-11-24T12:00:05.1000000Z Traceback (most recent call last):
2026-11-24T12:00:05.1000001Z   File "/app/check.py", line 3, in <module>
2026-11-24T12:00:05.2000000Z migration failed after 3 attempts
2026-11-24T12:00:05.3000000Z ##[error]Process completed with exit code 1.
2026-11-24T12:00:05.4000000Z ##[endgroup]`;

describe("compacting a failed run's log", () => {
  it("keeps the lines that say what failed, without timestamps or stack frames", () => {
    expect(relevantLogLines(LOG)).toEqual([
      "Error: connect ECONNREFUSED 10.0.0.5:5432",
      "migration failed after 3 attempts",
      "error: Process completed with exit code 1.",
    ]);
  });

  it("keeps at most five lines of at most 200 characters", () => {
    const log = Array.from({ length: 40 }, (_, i) => `error ${i}: ${"x".repeat(500)}`).join("\n");
    const lines = relevantLogLines(log);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatch(/^error 39: x+…$/);
    expect(lines.every((l) => l.length <= 200)).toBe(true);
  });

  it("falls back to the last lines when none signals a failure", () => {
    expect(relevantLogLines("one\ntwo\nthree")).toEqual(["one", "two", "three"]);
  });

  it("finds a run id in a run's URL", () => {
    expect(runIdFromUrl("https://github.com/acme/shop/actions/runs/5001")).toBe(5001);
    expect(runIdFromUrl("https://example.com/logs")).toBeNull();
  });
});
