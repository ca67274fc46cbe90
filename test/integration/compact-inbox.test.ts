import { describe, expect, it } from "vitest";
import { MERGE_SHA, mergedPullRequest } from "../helpers/fixtures.js";
import { createHarness } from "../helpers/harness.js";

/** The inbox keeps what the worker reads of a webhook, not the whole payload. */

describe("a webhook in the inbox", () => {
  it("is kept as the compact entry the worker reads, a small part of the payload", async () => {
    const harness = await createHarness();
    const payload = mergedPullRequest();
    await harness.probot.receive({ id: "compact-1", name: "pull_request", payload } as never);

    const entry = await harness.store.claimInbox("test", harness.now.value, 60_000);
    const stored = entry!.payload as Record<string, Record<string, unknown>>;
    expect(stored.pull_request).toMatchObject({ number: 7, merged: true, merge_commit_sha: MERGE_SHA });
    expect(stored).not.toHaveProperty("sender");
    expect(JSON.stringify(stored).length).toBeLessThan(JSON.stringify(payload).length / 10);
  });

  it("is kept whole when it does not parse, so the worker sets it aside with the reason", async () => {
    const harness = await createHarness();
    const payload = mergedPullRequest();
    (payload.pull_request as Record<string, unknown>).merge_commit_sha = "../../etc/passwd";
    await harness.deliver("pull_request", payload, "compact-2");

    expect(await harness.store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 1 });
    expect(harness.log.lines.some((l) => l.includes("merge_commit_sha"))).toBe(true);
  });
});
