import { describe, expect, it } from "vitest";
import { parseRepoConfig } from "../../src/config/repo-config.js";
import { judgeManualRun } from "../../src/pipeline/deployment-gate.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const actions = parseRepoConfig(`deployments: actions\n${CONFIG_YAML}`);
const facts = {
  repo: "acme/shop",
  successes: [{ component: "backend", environment: "staging", sha: SHA }],
  lockHolder: null,
  threadId: "run:1",
  running: null,
  ci: null,
  comparison: null,
  rejected: [],
};
const HOW_TO = "Ask deploybot.";

describe("a run deploybot did not dispatch, at the environment's gate", () => {
  it("is rejected where the environment needs an approval, pointing to deploybot where approvers are asked", () => {
    const verdict = judgeManualRun(
      { config: actions, component: "backend", sha: SHA },
      facts,
      "production",
      HOW_TO,
    );
    expect(verdict.state).toBe("rejected");
    expect(verdict.comment).toContain("production needs an approval");
    expect(verdict.comment).toContain("Ask deploybot.");
  });

  it("is rejected while another deploy of the component runs there", () => {
    const verdict = judgeManualRun(
      { config: actions, component: "backend", sha: SHA },
      { ...facts, lockHolder: "th_other" },
      "staging",
      HOW_TO,
    );
    expect(verdict).toMatchObject({ state: "rejected" });
    expect(verdict.comment).toContain("another deploy of backend to staging is running");
  });

  it("is rejected when its workflow deploys no component", () => {
    expect(
      judgeManualRun({ config: actions, component: null, sha: SHA }, facts, "staging", HOW_TO).comment,
    ).toContain("deploys no component");
  });

  it("is rejected in a repository that does not use deployments: actions", () => {
    const verdict = judgeManualRun(
      { config: parseRepoConfig(CONFIG_YAML), component: "backend", sha: SHA },
      facts,
      "staging",
      HOW_TO,
    );
    expect(verdict).toMatchObject({ state: "rejected" });
  });

  it("is rejected when it would redeploy what already runs there", () => {
    const verdict = judgeManualRun(
      { config: actions, component: "backend", sha: SHA },
      { ...facts, running: { sha: SHA, source: "deploybot", pr: null } },
      "staging",
      HOW_TO,
    );
    expect(verdict).toMatchObject({ state: "rejected" });
    expect(verdict.comment).toContain("already runs in staging");
  });

  it("is approved where the policy allows it", () => {
    const verdict = judgeManualRun(
      { config: actions, component: "frontend", sha: SHA },
      facts,
      "staging",
      HOW_TO,
    );
    expect(verdict.state).toBe("approved");
  });
});
