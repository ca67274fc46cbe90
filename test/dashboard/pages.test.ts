import { afterEach, describe, expect, it } from "vitest";
import { newEvent } from "../../src/thread/events.js";
import { startAppServer, type AppServer } from "../helpers/app-server.js";
import { deployStep, MERGE_SHA, mergeStart, on } from "../helpers/thread-builder.js";
import { basic, get, putThread, recordSuccess, waitingForProduction } from "./dashboard-helpers.js";

let app: AppServer;
afterEach(async () => app?.stop());

describe("the dashboard's overview", () => {
  it("shows, per component and environment, the commit that runs there, since when and which thread deployed it", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_prod", waitingForProduction());
    await recordSuccess(app.store, "th_prod", "staging", 1001, new Date("2026-11-24T11:57:00Z"));

    const response = await get(app.base, "/threads/overview");

    expect(response.status).toBe(200);
    expect(response.body).toContain("<h2");
    expect(response.body).toContain(`/acme/shop/commit/${MERGE_SHA}`);
    expect(response.body).toMatch(
      /since <time datetime="2026-11-24T11:57:00.000Z" title="2026-11-24 11:57:00 UTC">3 min ago<\/time>/,
    );
    expect(response.body).toContain('href="/threads/th_prod"');
    expect(response.body).toContain("waiting for approval:");
    expect(response.body).toMatch(
      /<th scope="col">production <span class="muted">\(approval\)<\/span><\/th>/,
    );
  });

  it("says what to do when there is nothing yet", async () => {
    app = await startAppServer();
    const response = await get(app.base, "/threads/overview");
    expect(response.body).toContain("No threads yet");
  });
});

describe("the dashboard's thread list", () => {
  it("filters by repository and status", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_a", waitingForProduction(), { title: "shop change" });
    await putThread(app.store, "th_b", [...mergeStart(), newEvent("done", { message: "ok", by: "code" })], {
      repo: "acme/other",
      title: "other change",
    });

    const byRepo = await get(app.base, "/threads?repo=acme%2Fother");
    const byStatus = await get(app.base, "/threads?status=waiting_for_approval");

    expect(byRepo.body).toContain("other change");
    expect(byRepo.body).not.toContain("shop change");
    expect(byStatus.body).toContain("shop change");
    expect(byStatus.body).not.toContain("other change");
    expect(byStatus.body).toContain('<option value="waiting_for_approval" selected>');
  });

  it("pages through threads, most recently active first, 25 to a page", async () => {
    app = await startAppServer();
    for (let i = 1; i <= 27; i++) {
      await putThread(app.store, `th_${String(i).padStart(2, "0")}`, mergeStart(), {
        title: `change number ${i}.`,
        at: new Date(Date.parse("2026-11-24T10:00:00Z") + i * 60_000),
      });
    }

    const first = await get(app.base, "/threads");
    const second = await get(app.base, "/threads?page=2");

    expect(first.body).toContain("change number 27.");
    expect(first.body).not.toContain("change number 2.");
    expect(first.body).toContain('href="/threads?page=2" rel="next"');
    expect(second.body).toContain("change number 2.");
    expect(second.body).toContain("change number 1.");
    expect(second.body).not.toContain('rel="next"');
    expect(second.body).toContain('href="/threads" rel="prev"');
  });
});

describe("a thread page", () => {
  it("shows one timeline row per event with its time and links to the pull request, commit, deployment and run", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_prod", waitingForProduction());

    const response = await get(app.base, "/threads/th_prod");

    expect(response.status).toBe(200);
    expect(response.body.match(/<tr id="e\d+">/g)).toHaveLength(waitingForProduction().length);
    expect(response.body).toContain('href="https://github.com/acme/shop/pull/7"');
    expect(response.body).toContain(`href="https://github.com/acme/shop/commit/${MERGE_SHA}"`);
    expect(response.body).toContain(
      'href="https://github.com/acme/shop/deployments/staging">deployment 1001</a>',
    );
    expect(response.body).toContain("decider rules, model rules, no tokens, 1 ms");
    expect(response.body).toContain('<button type="submit" class="primary">Approve</button>');
    expect(response.body).toContain('<label for="reject-reason">Reason for rejecting</label>');
  });

  it("shows who approved and through which channel, and escapes what outsiders wrote", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_x", [
      on.prMerged({ title: `<script>alert("x")</script>` }),
      on.approvalRequested({
        intent: "deploy_backend",
        environment: "production",
        sha: MERGE_SHA,
        reason: "go",
      }),
      on.approvalRejected(`<img src=x onerror=alert(1)>`, "ap_1", "U01APPROVER"),
    ]);

    const response = await get(app.base, "/threads/th_x");

    expect(response.body).not.toContain("<script>alert");
    expect(response.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(response.body).not.toContain("<img src=x");
    expect(response.body).toContain("by <strong>U01APPROVER</strong> via slack");
  });

  it("links each Slack message deploybot posted", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_slack", [
      ...mergeStart(),
      newEvent("slack_posted", {
        key: "root",
        purpose: "root",
        channel: "C01DEPLOYS",
        ts: "1700000003.000100",
        error: null,
      }),
    ]);
    const response = await get(app.base, "/threads/th_slack");
    expect(response.body).toContain(
      'href="https://slack.com/archives/C01DEPLOYS/p1700000003000100">open in Slack</a>',
    );
  });

  it("offers no actions once the thread has ended", async () => {
    app = await startAppServer();
    await putThread(app.store, "th_done", [
      ...mergeStart(),
      newEvent("done", { message: "all deployed", by: "code" }),
    ]);
    const response = await get(app.base, "/threads/th_done");
    expect(response.body).toContain("nothing to do");
    expect(response.body).not.toContain('<form method="post"');
  });

  it("answers 404 for a thread that does not exist and 401 without a sign-in", async () => {
    app = await startAppServer();
    expect((await get(app.base, "/threads/th_nope")).status).toBe(404);
    const anonymous = await get(app.base, "/threads/overview", {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toContain("Basic");
    expect((await get(app.base, "/threads/overview", basic("wrong-token-0123456789"))).status).toBe(401);
  });
});

describe("the overview of a deploy in flight", () => {
  it("shows what is deploying and what is queued behind it, each with its thread", async () => {
    app = await startAppServer();
    const step = deployStep("backend", "staging");
    await putThread(
      app.store,
      "th_running",
      [
        ...mergeStart(),
        on.decision(step),
        on.authorized("deploy", "backend", "staging"),
        newEvent("deployment_created", {
          step_seq: 5,
          deployment_id: 1001,
          component: "backend",
          environment: "staging",
          sha: MERGE_SHA,
        }),
        newEvent("deploy_dispatched", {
          deployment_id: 1001,
          workflow: "deploy-backend.yml",
          run_id: 9,
          run_url: null,
        }),
      ],
      { title: "acme/shop#7: first" },
    );
    await putThread(
      app.store,
      "th_queued",
      [
        ...mergeStart(),
        on.decision(step),
        newEvent("step_deferred", {
          step,
          reason: "backend is deploying to staging",
          lock_key: "acme/shop:backend:staging",
        }),
      ],
      { title: "acme/shop#8: second" },
    );

    const response = await get(app.base, "/threads/overview");

    expect(response.body).toMatch(
      /deploying<\/span> <code>0123456<\/code> · <a href="\/threads\/th_running">#7: first<\/a>/,
    );
    expect(response.body).toMatch(
      /queued:<\/span> <code>0123456<\/code> · <a href="\/threads\/th_queued">#8: second<\/a>/,
    );
  });
});
