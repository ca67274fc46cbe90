import { describe, expect, it } from "vitest";
import { judge, type PolicyFacts } from "../../src/agent/policy.js";
import type { NextStep } from "../../src/agent/next-step.js";
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
