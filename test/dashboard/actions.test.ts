import { afterEach, describe, expect, it } from "vitest";
import { createSignInToken } from "../../src/http/dashboard-auth.js";
import { ApiDecision } from "../../src/pipeline/approvals.js";
import { ApiControl } from "../../src/pipeline/api-inbox.js";
import type { InboxEntry } from "../../src/store/store.js";
import { startAppServer, type AppServer } from "../helpers/app-server.js";
import { basic, csrfOf, get, post, putThread, waitingForProduction } from "./dashboard-helpers.js";

let app: AppServer;
afterEach(async () => app?.stop());

async function queued(): Promise<InboxEntry[]> {
  const entries: InboxEntry[] = [];
  for (;;) {
    const entry = await app.store.claimInbox("test", app.now.value, 60_000);
    if (!entry) return entries;
    entries.push(entry);
  }
}

async function threadCsrf(): Promise<string> {
  return csrfOf((await get(app.base, "/threads/th_prod")).body);
}

describe("approving from a thread page", () => {
  it("queues an api.decision entry in the signed-in token's name, through the dashboard channel", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_prod", waitingForProduction());

    const response = await post(app.base, "/threads/th_prod/approve", { csrf: await threadCsrf() });

    expect(response.status).toBe(303);
    expect(response.headers.location).toBe("/threads/th_prod?done=approve");
    const [entry, ...more] = await queued();
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ kind: "api.decision", source: "api" });
    expect(entry!.payload).toEqual({
      thread_id: "th_prod",
      decision: "approve",
      reason: null,
      client: "ci",
      channel: "dashboard",
      received_at: "2026-11-24T12:00:00.000Z",
    });
    expect(ApiDecision.parse(entry!.payload)).toEqual(entry!.payload);
  });
});

describe("rejecting from a thread page", () => {
  it("queues the rejection with its reason", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_prod", waitingForProduction());

    await post(app.base, "/threads/th_prod/reject", {
      csrf: await threadCsrf(),
      reason: "deploy the frontend first",
    });

    const [entry] = await queued();
    expect(entry!.payload).toEqual({
      thread_id: "th_prod",
      decision: "reject",
      reason: "deploy the frontend first",
      client: "ci",
      channel: "dashboard",
      received_at: "2026-11-24T12:00:00.000Z",
    });
  });

  it("asks for a reason and queues nothing without one", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_prod", waitingForProduction());
    const response = await post(app.base, "/threads/th_prod/reject", {
      csrf: await threadCsrf(),
      reason: "  ",
    });
    expect(response.status).toBe(400);
    expect(response.body).toContain("say why you reject");
    expect(await queued()).toEqual([]);
  });
});

describe("pausing, resuming and cancelling from a thread page", () => {
  it("queues the existing api.control entries with the token's name as the client", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_prod", waitingForProduction());
    const csrf = await threadCsrf();

    await post(app.base, "/threads/th_prod/pause", { csrf, reason: "freeze" });
    await post(app.base, "/threads/th_prod/cancel", { csrf, reason: "" });

    const payloads = (await queued()).map((entry) => ApiControl.parse(entry.payload));
    expect(payloads).toEqual([
      { thread_id: "th_prod", action: "pause", client: "ci", reason: "freeze" },
      { thread_id: "th_prod", action: "cancel", client: "ci", reason: null },
    ]);
  });

  it("refuses to resume a thread that is not paused", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_prod", waitingForProduction());
    const response = await post(app.base, "/threads/th_prod/resume", { csrf: await threadCsrf() });
    expect(response.status).toBe(409);
    expect(await queued()).toEqual([]);
  });
});

describe("a form post from somewhere else", () => {
  it("is refused without the page's CSRF token, or from another origin, and queues nothing", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_prod", waitingForProduction());
    const csrf = await threadCsrf();

    const noToken = await post(app.base, "/threads/th_prod/approve", {});
    const wrongToken = await post(app.base, "/threads/th_prod/approve", { csrf: "forged" });
    const otherOrigin = await post(
      app.base,
      "/threads/th_prod/approve",
      { csrf },
      { ...basic(), origin: "https://evil.example" },
    );

    expect([noToken.status, wrongToken.status, otherOrigin.status]).toEqual([403, 403, 403]);
    expect(await queued()).toEqual([]);
  });
});

describe("a one-time sign-in link", () => {
  it("signs a browser in once with a session cookie whose forms carry their own CSRF token", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_prod", waitingForProduction());
    const token = await createSignInToken(app.store, "demo", app.now.value);

    const first = await get(app.base, `/threads/sign-in?token=${token}`, {});
    const again = await get(app.base, `/threads/sign-in?token=${token}`, {});
    const cookie = String(first.headers["set-cookie"]).split(";")[0]!;
    const overview = await get(app.base, "/threads/overview", { cookie });
    const page = await get(app.base, "/threads/th_prod", { cookie });
    const approve = await post(app.base, "/threads/th_prod/approve", { csrf: csrfOf(page.body) }, { cookie });

    expect(first.status).toBe(303);
    expect(first.headers.location).toBe("/threads/overview");
    expect(String(first.headers["set-cookie"])).toContain("HttpOnly; SameSite=Lax");
    expect(again.status).toBe(401);
    expect(overview.status).toBe(200);
    expect(overview.body).toContain("Signed in as <strong>demo</strong>");
    expect(approve.status).toBe(303);
    expect((await queued())[0]!.payload).toMatchObject({ decision: "approve", client: "demo" });
  });

  it("is refused once it has expired", async () => {
    app = await startAppServer();
    const token = await createSignInToken(app.store, "demo", app.now.value);
    app.now.value = new Date(app.now.value.getTime() + 16 * 60_000);
    expect((await get(app.base, `/threads/sign-in?token=${token}`, {})).status).toBe(401);
  });
});
