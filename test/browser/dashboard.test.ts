import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSignInToken } from "../../src/http/dashboard-auth.js";
import type { InboxEntry } from "../../src/store/store.js";
import { startAppServer, type AppServer } from "../helpers/app-server.js";
import { putThread, recordSuccess, waitingForProduction } from "../dashboard/dashboard-helpers.js";
import { axeViolations, launchChromium } from "./chromium.js";

/** The dashboard in a real browser: sign in, look around, act; the pages pass axe-core. */

let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
let app: AppServer;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  context = browser.context;
}, 30_000);

afterAll(async () => browser?.close());

afterEach(async () => {
  await page?.close();
  await context.clearCookies();
  await app?.stop();
});

async function signedInAt(path: string): Promise<void> {
  app = await startAppServer();
  await putThread(app.store, "th_prod", waitingForProduction());
  await recordSuccess(app.store, "th_prod", "staging", 1001, new Date("2026-11-24T11:57:00Z"));
  const token = await createSignInToken(app.store, "release-manager", app.now.value);
  page = await context.newPage();
  await page.goto(`${app.base}/threads/sign-in?token=${token}`);
  if (path !== "/threads/overview") await page.goto(`${app.base}${path}`);
}

async function queued(): Promise<InboxEntry[]> {
  const entries: InboxEntry[] = [];
  for (;;) {
    const entry = await app.store.claimInbox("test", app.now.value, 60_000);
    if (!entry) return entries;
    entries.push(entry);
  }
}

describe("the dashboard in a browser", () => {
  it("signs in through the one-time link, shows the overview and opens a thread from it", async () => {
    await signedInAt("/threads/overview");

    expect(new URL(page.url()).pathname).toBe("/threads/overview");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Overview");
    expect(await page.getByRole("table", { name: "What runs where in acme/shop" }).isVisible()).toBe(true);
    await page.getByRole("link", { name: "acme/shop#7: Speed up the checkout API" }).first().click();
    await page.waitForURL(/\/threads\/th_prod$/);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(
      "acme/shop#7: Speed up the checkout API",
    );
    expect(await page.getByRole("button", { name: "Approve" }).isVisible()).toBe(true);
  });

  it("approves with the Approve button: an api.decision entry in the signed-in name", async () => {
    await signedInAt("/threads/th_prod");

    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(/done=approve$/);

    expect(await page.getByRole("status").textContent()).toContain("Approval sent");
    const entries = await queued();
    expect(entries.map((e) => [e.kind, e.payload])).toEqual([
      [
        "api.decision",
        {
          thread_id: "th_prod",
          decision: "approve",
          reason: null,
          client: "release-manager",
          channel: "dashboard",
          received_at: "2026-11-24T12:00:00.000Z",
        },
      ],
    ]);
  });

  it("rejects with a reason typed into the labelled field", async () => {
    await signedInAt("/threads/th_prod");

    await page.getByLabel("Reason for rejecting").fill("deploy the frontend first");
    await page.getByRole("button", { name: "Reject" }).click();
    await page.waitForURL(/done=reject$/);

    expect((await queued()).map((e) => e.payload)).toEqual([
      expect.objectContaining({
        decision: "reject",
        reason: "deploy the frontend first",
        client: "release-manager",
      }),
    ]);
  });

  it("pauses and cancels: api.control entries with the token's name", async () => {
    await signedInAt("/threads/th_prod");

    await page.getByLabel("Reason for pausing (optional)").fill("freeze");
    await page.getByRole("button", { name: "Pause" }).click();
    await page.waitForURL(/done=pause$/);
    await page.getByRole("button", { name: "Cancel thread" }).click();
    await page.waitForURL(/done=cancel$/);

    expect((await queued()).map((e) => [e.kind, e.payload])).toEqual([
      ["api.control", { thread_id: "th_prod", action: "pause", client: "release-manager", reason: "freeze" }],
      ["api.control", { thread_id: "th_prod", action: "cancel", client: "release-manager", reason: null }],
    ]);
  });

  it("filters the thread list with its labelled controls", async () => {
    await signedInAt("/threads");

    await page.getByLabel("Status").selectOption("waiting_for_approval");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/status=waiting_for_approval/);

    expect(await page.getByRole("link", { name: "acme/shop#7: Speed up the checkout API" }).isVisible()).toBe(
      true,
    );
  });
});

describe("the dashboard's accessibility", () => {
  for (const path of ["/threads/overview", "/threads", "/threads/th_prod"]) {
    it(`finds no axe-core violations on ${path}`, async () => {
      await signedInAt(path);
      expect(await axeViolations(page)).toEqual([]);
    });
  }
});
