import { describe, expect, it } from "vitest";
import {
  bodyDigest,
  nextPrCommentSync,
  prCommentMarker,
  renderPrComment,
} from "../../src/agent/pr-comment.js";
import { newEvent } from "../../src/thread/events.js";
import {
  deployRun,
  deployStep,
  MERGE_SHA,
  mergeStart,
  on,
  PREVIOUS_SHA,
  sampleConfig,
  threadWith,
} from "../helpers/thread-builder.js";

const config = sampleConfig();

describe("the pull request comment", () => {
  it("names its thread in a hidden marker and shows each changed component in each environment", () => {
    const thread = threadWith([
      ...mergeStart({ backend: ["api/cart.ts"], frontend: ["web/app.tsx"] }),
      on.deployed({ "backend/production": PREVIOUS_SHA }),
      on.decision(deployStep("backend", "staging")),
      ...deployRun("backend", "staging", "success", { deploymentId: 1001 }),
      on.decision(deployStep("backend", "production")),
      on.approvalRequested(deployStep("backend", "production")),
    ]);
    const body = renderPrComment(thread, config);
    expect(body.startsWith(prCommentMarker("th_test"))).toBe(true);
    expect(body).toContain("| component | staging | production |");
    expect(body).toContain(`| **backend** | ✅ deployed \`${MERGE_SHA.slice(0, 7)}\` · deployment 1001 |`);
    expect(body).toContain(`⏸ waiting for approval of \`${MERGE_SHA.slice(0, 7)}\``);
    expect(body).toMatch(/\| \*\*frontend\*\* \| · \| · \|/);
    expect(body).toContain("**Waiting for** an approval from one of `U01APPROVER`");
    expect(body).toContain(`backend in production: \`${PREVIOUS_SHA.slice(0, 7)}\``);
  });

  it("says who approved, and ends with a summary", () => {
    const thread = threadWith([
      ...mergeStart(),
      on.approvalRequested(deployStep("backend", "production")),
      on.approvalGranted("ap_1", "U02RELEASER"),
      ...deployRun("backend", "production", "failure", { deploymentId: 1002 }),
      newEvent("failed", { reason: "the production deploy failed and nobody answered" }),
    ]);
    const body = renderPrComment(thread, config);
    expect(body).toContain("approved by U02RELEASER");
    expect(body).toContain(`❌ failed \`${MERGE_SHA.slice(0, 7)}\``);
    expect(body).toContain("**Failed:** the production deploy failed and nobody answered");
  });

  it("keeps outside text from forming links, mentions or markup", () => {
    const thread = threadWith([
      ...mergeStart(),
      on.decision({
        ...deployStep("backend", "staging"),
        reason: "see [this](https://evil.example) @everyone <img>",
      }),
      on.authorized("deploy", "backend", "staging"),
    ]);
    const body = renderPrComment(thread, config);
    expect(body).not.toContain("[this](https://evil.example)");
    expect(body).not.toMatch(/@everyone/);
    expect(body).not.toContain("<img>");
  });
});

describe("keeping the comment up to date", () => {
  it("asks for nothing in a thread that did nothing (a docs-only merge)", () => {
    expect(nextPrCommentSync(threadWith(mergeStart({})), config)).toBeNull();
  });

  it("asks for a new comment first, then only when the body would change", () => {
    const events = [
      ...mergeStart(),
      on.decision(deployStep("backend", "staging")),
      on.authorized("deploy", "backend", "staging"),
    ];
    const first = nextPrCommentSync(threadWith(events), config);
    expect(first).toMatchObject({ number: 7, commentId: null });
    expect(first!.digest).toBe(bodyDigest(first!.body));

    const synced = newEvent("pr_comment_synced", {
      number: 7,
      comment_id: 55,
      digest: first!.digest,
      error: null,
    });
    expect(nextPrCommentSync(threadWith([...events, synced]), config)).toBeNull();

    const moved = [
      ...events,
      synced,
      newEvent("deployment_created", {
        step_seq: 5,
        deployment_id: 9,
        component: "backend",
        environment: "staging",
        sha: MERGE_SHA,
      }),
    ];
    const next = nextPrCommentSync(threadWith(moved), config);
    expect(next).toBeNull(); // creating the deployment changes nothing a reader sees

    const finished = [...moved, on.finished("backend", "staging", "success", { deploymentId: 9 })];
    expect(nextPrCommentSync(threadWith(finished), config)).toMatchObject({ commentId: 55 });
  });

  it("stops after GitHub refused the comment for good", () => {
    const events = [
      ...mergeStart(),
      on.authorized("deploy", "backend", "staging"),
      newEvent("pr_comment_synced", {
        number: 7,
        comment_id: null,
        digest: "x",
        error: "HTTP 403: Resource not accessible by integration",
      }),
    ];
    expect(nextPrCommentSync(threadWith(events), config)).toBeNull();
  });
});
