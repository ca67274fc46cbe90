import { describe, expect, it } from "vitest";
import { judge, type PolicyFacts } from "../../src/agent/policy.js";
import type { NextStep } from "../../src/thread/next-step.js";
import { parseRepoConfig } from "../../src/config/repo-config.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

const MERGED = "a".repeat(40);
const OLDER = "b".repeat(40);
const NEVER = "c".repeat(40);

function facts(overrides: Partial<PolicyFacts> = {}): PolicyFacts {
  return {
    repo: "acme/shop",
    config: parseRepoConfig(CONFIG_YAML),
    mergeSha: MERGED,
    changedComponents: ["backend"],
    successes: [],
    lockHolder: null,
    threadId: "th_1",
    approved: false,
    running: null,
    ci: { sha: MERGED, state: "success", summary: "3 checks" },
    comparison: null,
    rejected: [],
    ...overrides,
  };
}

const deploy = (environment: string, sha = MERGED, component = "backend"): NextStep => ({
  intent: `deploy_${component}`,
  environment,
  sha,
  reason: "test",
});

const rollback = (environment: string, to_sha: string): NextStep => ({
  intent: "rollback",
  component: "backend",
  environment,
  to_sha,
  reason: "test",
});

describe("the policy", () => {
  it("allows the merged commit to staging and names the lock it takes", () => {
    expect(judge(deploy("staging"), facts())).toEqual({
      kind: "allow",
      action: { kind: "deploy", component: "backend", environment: "staging", sha: MERGED, reason: "test" },
      lockKey: "acme/shop:backend:staging",
    });
  });

  it("refuses production straight after the merge, before staging succeeded", () => {
    const verdict = judge(deploy("production"), facts());
    expect(verdict.kind).toBe("refuse");
    expect(verdict.kind === "refuse" && verdict.reason).toContain("has not succeeded in staging");
  });

  it("asks for approval for production once staging succeeded for the same commit", () => {
    const verdict = judge(
      deploy("production"),
      facts({ successes: [{ component: "backend", environment: "staging", sha: MERGED }] }),
    );
    expect(verdict.kind).toBe("needs_approval");
  });

  it("does not count a staging success of another commit", () => {
    const verdict = judge(
      deploy("production"),
      facts({ successes: [{ component: "backend", environment: "staging", sha: OLDER }] }),
    );
    expect(verdict.kind).toBe("refuse");
  });

  it("allows an approved production step", () => {
    const verdict = judge(
      deploy("production"),
      facts({ approved: true, successes: [{ component: "backend", environment: "staging", sha: MERGED }] }),
    );
    expect(verdict.kind).toBe("allow");
  });

  it("refuses a commit other than the merged one", () => {
    const verdict = judge(deploy("staging", OLDER), facts());
    expect(verdict.kind === "refuse" && verdict.reason).toContain("is not the merged commit");
  });

  it("refuses an unknown component", () => {
    const verdict = judge(deploy("staging", MERGED, "database"), facts());
    expect(verdict.kind === "refuse" && verdict.reason).toContain('unknown component "database"');
  });

  it("refuses an unknown environment", () => {
    const verdict = judge(deploy("qa"), facts());
    expect(verdict.kind === "refuse" && verdict.reason).toContain('unknown environment "qa"');
  });

  it("refuses a component the merge did not change", () => {
    const verdict = judge(deploy("staging", MERGED, "frontend"), facts());
    expect(verdict.kind === "refuse" && verdict.reason).toContain("frontend has no changes");
  });

  it("refuses to deploy again what already succeeded there", () => {
    const verdict = judge(
      deploy("staging"),
      facts({ successes: [{ component: "backend", environment: "staging", sha: MERGED }] }),
    );
    expect(verdict.kind === "refuse" && verdict.reason).toContain("already deployed to staging");
  });

  it("makes a step wait while another thread deploys the same component to the same environment", () => {
    const verdict = judge(deploy("staging"), facts({ lockHolder: "th_other" }));
    expect(verdict).toMatchObject({ kind: "wait", lockKey: "acme/shop:backend:staging" });
  });

  it("refuses a rollback to a commit that never deployed successfully there", () => {
    const verdict = judge(
      rollback("staging", NEVER),
      facts({ successes: [{ component: "backend", environment: "production", sha: NEVER }] }),
    );
    expect(verdict.kind === "refuse" && verdict.reason).toContain("never deployed successfully to staging");
  });

  it("accepts a rollback of staging to a commit that succeeded there", () => {
    const verdict = judge(
      rollback("staging", OLDER),
      facts({ successes: [{ component: "backend", environment: "staging", sha: OLDER }] }),
    );
    expect(verdict).toMatchObject({ kind: "allow", action: { kind: "rollback", sha: OLDER } });
  });

  it("needs approval for a production rollback unless the environment says otherwise", () => {
    const successes = [{ component: "backend", environment: "production", sha: OLDER }];
    expect(judge(rollback("production", OLDER), facts({ successes })).kind).toBe("needs_approval");
    const relaxed = parseRepoConfig(
      CONFIG_YAML.replace("approval: required", "approval: required\n    rollback_approval: not_required"),
    );
    expect(judge(rollback("production", OLDER), facts({ successes, config: relaxed })).kind).toBe("allow");
  });

  it("lets questions and the end of a thread through without a lock", () => {
    expect(judge({ intent: "ask_human", question: "Which?", reason: "unsure" }, facts())).toEqual({
      kind: "allow",
      action: null,
      lockKey: null,
    });
    expect(judge({ intent: "done_for_now", message: "ok" }, facts()).kind).toBe("allow");
  });
});

const stagingDone = [{ component: "backend", environment: "staging", sha: MERGED }];
const ciConfig = (mode: string) =>
  parseRepoConfig(CONFIG_YAML.replace("  - name: staging\n", `  - name: staging\n    ci: ${mode}\n`));

describe("the policy on CI", () => {
  it("refuses a commit whose checks failed, by default, and says why", () => {
    const verdict = judge(
      deploy("staging"),
      facts({ ci: { sha: MERGED, state: "failure", summary: "2 checks; failing: test" } }),
    );
    expect(verdict.kind === "refuse" && verdict.reason).toContain(
      "CI of aaaaaaa failed (2 checks; failing: test)",
    );
  });

  it("lets a pending CI through when the environment only asks for not failing", () => {
    const verdict = judge(deploy("staging"), facts({ ci: { sha: MERGED, state: "pending", summary: "" } }));
    expect(verdict.kind).toBe("allow");
  });

  it("makes a step wait on a pending CI when the environment asks for passing checks", () => {
    const verdict = judge(
      deploy("staging"),
      facts({ config: ciConfig("passing"), ci: { sha: MERGED, state: "pending", summary: "" } }),
    );
    expect(verdict).toMatchObject({ kind: "wait", lockKey: `ci:acme/shop:${MERGED}` });
  });

  it("refuses a commit without any CI when the environment asks for passing checks", () => {
    const verdict = judge(
      deploy("staging"),
      facts({ config: ciConfig("passing"), ci: { sha: MERGED, state: "none", summary: "" } }),
    );
    expect(verdict.kind === "refuse" && verdict.reason).toContain("needs passing checks");
  });

  it("ignores a failed CI when the environment says ignore", () => {
    const verdict = judge(
      deploy("staging"),
      facts({ config: ciConfig("ignore"), ci: { sha: MERGED, state: "failure", summary: "" } }),
    );
    expect(verdict.kind).toBe("allow");
  });

  it("does not read a CI state of another commit as this one's", () => {
    const verdict = judge(
      deploy("staging"),
      facts({ config: ciConfig("passing"), ci: { sha: OLDER, state: "success", summary: "" } }),
    );
    expect(verdict.kind).toBe("wait");
  });
});

describe("the policy on what already runs", () => {
  it("refuses a deploy of a commit that is behind the one running there, naming it and its PR", () => {
    const verdict = judge(
      deploy("production"),
      facts({
        approved: true,
        successes: stagingDone,
        running: { sha: NEVER, source: "deploybot", pr: 12 },
        comparison: { base: NEVER, head: MERGED, status: "behind" },
      }),
    );
    expect(verdict.kind === "refuse" && verdict.reason).toContain(
      "aaaaaaa is behind ccccccc (PR #12), which already runs backend in production",
    );
  });

  it("allows a deploy of a commit that is ahead of the one running there", () => {
    const verdict = judge(
      deploy("staging"),
      facts({
        running: { sha: NEVER, source: "github", pr: null },
        comparison: { base: NEVER, head: MERGED, status: "ahead" },
      }),
    );
    expect(verdict.kind).toBe("allow");
  });

  it("refuses to redeploy the commit that already runs there, whatever the source", () => {
    const verdict = judge(
      { ...deploy("staging", MERGED), reason: "again" },
      facts({
        changedComponents: null,
        mergeSha: MERGED,
        running: { sha: MERGED, source: "github", pr: null },
      }),
    );
    expect(verdict.kind === "refuse" && verdict.reason).toContain(
      "already runs in staging (GitHub's deployments)",
    );
  });

  it("refuses a rollback to the commit running there now", () => {
    const verdict = judge(
      rollback("production", OLDER),
      facts({
        successes: [{ component: "backend", environment: "production", sha: OLDER }],
        running: { sha: OLDER, source: "deploybot", pr: null },
      }),
    );
    expect(verdict.kind === "refuse" && verdict.reason).toContain("is what runs in production now");
  });
});

describe("the policy on rejected steps", () => {
  const rejected = [{ step: deploy("production"), reason: "not before\nthe sale ends", by: "U01APPROVER" }];

  it("refuses to ask again for a step a human rejected, quoting the rejection", () => {
    const verdict = judge(deploy("production"), facts({ successes: stagingDone, rejected }));
    expect(verdict.kind === "refuse" && verdict.reason).toContain(
      'U01APPROVER already rejected this deploy of backend aaaaaaa to production: "not before the sale ends"',
    );
  });

  it("still judges a changed step normally", () => {
    const verdict = judge(
      rollback("production", OLDER),
      facts({ successes: [{ component: "backend", environment: "production", sha: OLDER }], rejected }),
    );
    expect(verdict.kind).toBe("needs_approval");
  });
});
