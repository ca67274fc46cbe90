import { describe, expect, it } from "vitest";
import { judge, type PolicyFacts } from "../../src/agent/policy.js";
import { parseRepoConfig } from "../../src/config/repo-config.js";
import type { NextStep } from "../../src/thread/next-step.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

/** The deploy-safety rules as `judge` applies them; each rule alone is tested in test/agent/policy/. */

const MERGED = "a".repeat(40);
const OLDER = "b".repeat(40);
const NOW = new Date("2026-02-04T10:00:00Z"); // a Wednesday, 11:00 in Berlin
const STAGED = [{ component: "backend", environment: "staging", sha: MERGED }];

const SAFE_CONFIG = parseRepoConfig(
  CONFIG_YAML.replace(
    "  - name: staging\n",
    "  - name: staging\n    bake: 15m\n    verify: verify-staging.yml\n",
  ).replace(
    "    approval_expires_after: 24h\n",
    `    approval_expires_after: 24h
    approvals_required: 2
    break_glass: [octocat, api:oncall]
    windows:
      - days: [mon, tue, wed, thu, fri]
        hours: "09:00-17:00"
        time_zone: Europe/Berlin
    freezes:
      - from: "2026-12-20T00:00:00+01:00"
        to: "2027-01-04T09:00:00+01:00"
        reason: Year-end freeze
`,
  ),
);

function facts(overrides: Partial<PolicyFacts> = {}): PolicyFacts {
  return {
    repo: "acme/shop",
    config: SAFE_CONFIG,
    mergeSha: MERGED,
    changedComponents: ["backend"],
    successes: STAGED,
    lockHolder: null,
    threadId: "th_1",
    approved: false,
    running: null,
    ci: { sha: MERGED, state: "success", summary: "3 checks" },
    comparison: null,
    rejected: [],
    now: NOW,
    promotion: {
      succeededAt: new Date(NOW.getTime() - 60 * 60_000),
      verification: { conclusion: "success" },
    },
    ...overrides,
  };
}

const deploy = (environment = "production"): NextStep => ({
  intent: "deploy_backend",
  environment,
  sha: MERGED,
  reason: "test",
});
const rollback: NextStep = {
  intent: "rollback",
  component: "backend",
  environment: "production",
  to_sha: OLDER,
  reason: "test",
};
const rollbackFacts = {
  successes: [...STAGED, { component: "backend", environment: "production", sha: OLDER }],
};

const GLASS = { by: "octocat", channel: "github" as const, reason: "checkout is down" };
const FROZEN = new Date("2026-12-24T12:00:00Z");
const LOCK = {
  repo: "acme/shop",
  environment: "production",
  component: null,
  reason: "migrating the database",
  by: "octocat",
  at: "2026-02-04T09:00:00Z",
};
const approve = (by: string, minutes = 1) => ({
  decision: "approve" as const,
  by,
  channel: "slack" as const,
  at: new Date(NOW.getTime() - 30 * 60_000 + minutes * 60_000),
});
const requestedAt = new Date(NOW.getTime() - 30 * 60_000);

describe("the policy with deploy safety", () => {
  it("asks production for 2 approvals and counts the ones given", () => {
    const verdict = judge(
      deploy(),
      facts({ approvals: { answers: [approve("U01APPROVER")], prAuthor: null, requestedAt } }),
    );
    expect(verdict).toMatchObject({
      kind: "needs_approval",
      approvals_required: 2,
      approvals: 1,
      reason: "production requires approval for a deploy (1 of 2 approvals)",
    });
  });

  it("allows production once two distinct people approved", () => {
    const answers = [approve("U01APPROVER"), approve("U02OTHER", 2)];
    expect(judge(deploy(), facts({ approvals: { answers, prAuthor: null, requestedAt } })).kind).toBe(
      "allow",
    );
  });

  it("counts a boolean approval as one when a quorum of two is asked", () => {
    expect(judge(deploy(), facts({ approved: true }))).toMatchObject({
      kind: "needs_approval",
      approvals: 1,
    });
  });

  it("refuses a step an approver rejected", () => {
    const rejection = { ...approve("U02OTHER", 2), decision: "reject" as const, reason: "not now" };
    const verdict = judge(
      deploy(),
      facts({ approvals: { answers: [approve("U01APPROVER"), rejection], prAuthor: null, requestedAt } }),
    );
    expect(verdict).toMatchObject({ kind: "refuse" });
    expect(verdict.kind === "refuse" && verdict.reason).toContain(
      'U02OTHER rejected this deploy of backend to production: "not now"',
    );
  });

  it("holds a deploy in a freeze until it ends, saying why", () => {
    const verdict = judge(deploy(), facts({ now: FROZEN, approved: true }));
    expect(verdict).toMatchObject({
      kind: "wait",
      lockKey: "window:acme/shop:production",
      until: new Date("2027-01-04T08:00:00Z"),
      reason: "production is frozen until 4 Jan 2027 09:00 CET: Year-end freeze; the step waits",
    });
  });

  it("does not hold a rollback in a freeze", () => {
    expect(judge(rollback, facts({ now: FROZEN, ...rollbackFacts })).kind).toBe("needs_approval");
  });

  it("asks for approval outside the windows when the environment says when_closed: approval", () => {
    const config = parseRepoConfig(
      CONFIG_YAML.replace(
        "  - name: staging\n",
        `  - name: staging
    when_closed: approval
    approvers: [U01APPROVER]
    windows:
      - days: [sat]
        hours: "00:00-24:00"
        time_zone: UTC
`,
      ),
    );
    const verdict = judge(deploy("staging"), facts({ config, successes: [] }));
    expect(verdict).toMatchObject({ kind: "needs_approval", approvals_required: 1, approvals: 0 });
    expect(verdict.kind === "needs_approval" && verdict.why).toContain(
      "staging is outside its deploy windows",
    );
    expect(judge(deploy("staging"), facts({ config, successes: [], approved: true })).kind).toBe("allow");
  });

  it("holds a promotion while the previous environment bakes", () => {
    const verdict = judge(
      deploy(),
      facts({
        promotion: {
          succeededAt: new Date(NOW.getTime() - 5 * 60_000),
          verification: { conclusion: "success" },
        },
      }),
    );
    expect(verdict).toMatchObject({
      kind: "wait",
      lockKey: "bake:acme/shop:backend:production",
      until: new Date(NOW.getTime() + 10 * 60_000),
      reason: "staging is baking until 10:10 UTC",
    });
  });

  it("holds a promotion until the verification succeeds, and refuses one whose verification failed", () => {
    const pending = judge(
      deploy(),
      facts({ promotion: { succeededAt: null, verification: { conclusion: "pending" } } }),
    );
    expect(pending).toMatchObject({ kind: "wait", lockKey: `verify:acme/shop:backend:staging:${MERGED}` });
    const failed = judge(
      deploy(),
      facts({ promotion: { succeededAt: null, verification: { conclusion: "failure" } } }),
    );
    expect(failed.kind).toBe("refuse");
  });

  it("holds every step to a manually locked place, rollbacks included, naming who and why", () => {
    const verdict = judge(deploy(), facts({ manualLocks: [LOCK] }));
    expect(verdict).toMatchObject({
      kind: "wait",
      lockKey: "manual:acme/shop:backend:production",
      reason: "production is locked by @octocat: migrating the database; the step waits until it is unlocked",
    });
    expect(judge(rollback, facts({ manualLocks: [LOCK], ...rollbackFacts })).kind).toBe("wait");
    expect(judge(deploy(), facts({ manualLocks: [{ ...LOCK, component: "frontend" }] })).kind).toBe(
      "needs_approval",
    );
  });
});

describe("break-glass", () => {
  it("skips approval, the freeze and the bake, and says so on the verdict", () => {
    const verdict = judge(
      deploy(),
      facts({
        now: FROZEN,
        breakGlass: GLASS,
        promotion: {
          succeededAt: new Date(FROZEN.getTime() - 60_000),
          verification: { conclusion: "success" },
        },
      }),
    );
    expect(verdict).toMatchObject({
      kind: "allow",
      lockKey: "acme/shop:backend:production",
      breakGlass: { ...GLASS, skipped: ["bake", "freeze", "approval"] },
    });
  });

  it("is refused to someone not listed, and without a reason", () => {
    expect(judge(deploy(), facts({ breakGlass: { ...GLASS, by: "hubot" } })).kind).toBe("refuse");
    expect(judge(deploy(), facts({ breakGlass: { ...GLASS, reason: "" } })).kind).toBe("refuse");
  });

  it("does not lift a manual lock, deploybot's lock or a failed verification", () => {
    expect(judge(deploy(), facts({ breakGlass: GLASS, manualLocks: [LOCK] })).kind).toBe("wait");
    expect(judge(deploy(), facts({ breakGlass: GLASS, lockHolder: "th_2" })).kind).toBe("wait");
    const failed = { succeededAt: null, verification: { conclusion: "failure" as const } };
    expect(judge(deploy(), facts({ breakGlass: GLASS, promotion: failed })).kind).toBe("refuse");
  });

  it("does not lift a failed CI, the promotion order or a downgrade", () => {
    const failedCi = facts({ breakGlass: GLASS, ci: { sha: MERGED, state: "failure", summary: "tests" } });
    expect(judge(deploy(), failedCi)).toMatchObject({ kind: "refuse" });
    const unstaged = judge(deploy(), facts({ breakGlass: GLASS, successes: [] }));
    expect(unstaged.kind === "refuse" && unstaged.reason).toContain("has not succeeded in staging");
    const downgrade = judge(
      deploy(),
      facts({
        breakGlass: GLASS,
        running: { sha: OLDER, source: "deploybot", pr: 7 },
        comparison: { base: OLDER, head: MERGED, status: "behind" },
      }),
    );
    expect(downgrade.kind === "refuse" && downgrade.reason).toContain("is behind");
  });
});
