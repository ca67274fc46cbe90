import { afterEach, describe, expect, it, vi } from "vitest";
import { RepoConfigSchema } from "../../src/config/repo-config.js";
import * as state from "../../src/thread/state.js";
import { MERGE_SHA } from "../helpers/fixtures.js";
import { mockCreateDeployment, mockDispatch } from "../helpers/github-mocks.js";
import {
  clickBody,
  mockSlack,
  startAppServer,
  untilApprovalCard,
  type AppServer,
} from "../helpers/app-server.js";

// A counter on the fold, not a fake: every call goes to the real deriveState.
vi.mock("../../src/thread/state.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/thread/state.js")>();
  return { ...original, deriveState: vi.fn(original.deriveState) };
});

let app: AppServer;
afterEach(async () => {
  vi.restoreAllMocks();
  await app?.stop();
});

describe("one approve click in Slack", () => {
  it("reads the thread once and derives its state and config about once per step", async () => {
    app = await startAppServer();
    const { threadId, approvalId } = await untilApprovalCard(app);
    const before = (await app.store.getThread(threadId))!.events.length;
    const scopes = [
      mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.update": 1, "chat.postMessage": 1 }),
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];
    const getThread = vi.spyOn(app.store, "getThread");
    const appendEvents = vi.spyOn(app.store, "appendEvents");
    const configParses = vi.spyOn(RepoConfigSchema, "parse");
    const derived = vi.mocked(state.deriveState);
    derived.mockClear();

    expect(
      (await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"))).status,
    ).toBe(200);
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const appended = appendEvents.mock.results.length;
    const parsed = await Promise.all(
      getThread.mock.results.map(
        async (r) => ((await r.value) as { events: unknown[] } | null)?.events.length ?? 0,
      ),
    );
    const reads = getThread.mock.calls.filter(([id]) => id === threadId).length;
    const added = (await app.store.getThread(threadId))!.events.length - before;
    expect(added).toBeGreaterThanOrEqual(6);
    // Every append hands the store the events it extends, so the store never reads the thread back.
    expect(appendEvents.mock.calls.every((call) => call[4] !== undefined)).toBe(true);
    // The click's handler reads the thread once and hands it on: no other read of it.
    expect(reads).toBe(1);
    expect(parsed.reduce((a, b) => a + b, 0) / added).toBeLessThanOrEqual(3);
    // Once per step for the step's view, once per append for the status the store keeps.
    expect(derived.mock.calls.length).toBeLessThanOrEqual(2 * appended + 2);
    expect(configParses.mock.calls.length).toBeLessThanOrEqual(1);
  });
});
