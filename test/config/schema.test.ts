import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("the JSON Schemas in schema/", () => {
  it("are the ones generated from the zod schemas", async () => {
    const { stdout } = await run("npx", ["tsx", "scripts/generate-schema.ts", "--check"]);
    expect(stdout).toContain("schema/deploybot.schema.json is up to date.");
    expect(stdout).toContain("schema/next-step.schema.json is up to date.");
  }, 60_000);
});
