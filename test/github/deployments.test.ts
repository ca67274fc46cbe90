import nock from "nock";
import { describe, expect, it } from "vitest";
import { componentOfDeployment, lastGoodDeploymentsOnGitHub } from "../../src/github/deployments.js";
import { parseRepoConfig } from "../../src/config/repo-config.js";
import { API, CONFIG_YAML } from "../helpers/github-mocks.js";
import { TestOctokit } from "../helpers/probot.js";

const config = parseRepoConfig(CONFIG_YAML);
const single = parseRepoConfig(`
components:
  app:
    paths: ["**"]
    workflow: deploy.yml
environments:
  - name: production
`);
const OTHER_TOOL_SHA = "1111111111111111111111111111111111111111";
const EARLIER_SHA = "2222222222222222222222222222222222222222";

function mockDeployments(environment: string, deployments: { id: number; sha: string; payload: unknown }[]) {
  const scope = nock(API)
    .get("/repos/acme/shop/deployments")
    .query({ environment, per_page: "50" })
    .reply(
      200,
      deployments.map((d) => ({ ...d, environment })),
    );
  for (const d of deployments) {
    scope
      .get(`/repos/acme/shop/deployments/${d.id}/statuses`)
      .query({ per_page: "100" })
      .reply(200, [{ id: d.id * 10, state: "success", created_at: "2026-10-01T10:00:00Z" }]);
  }
  return scope;
}

describe("a deployment on GitHub", () => {
  it("names its component by its payload, whoever created it", () => {
    expect(componentOfDeployment({ component: "frontend" }, config)).toBe("frontend");
    expect(componentOfDeployment('{"component":"backend","tool":"spinnaker"}', config)).toBe("backend");
    expect(componentOfDeployment("free text", config)).toBeNull();
    expect(componentOfDeployment({ component: "database" }, config)).toBeNull();
  });

  it("belongs to the only component of a single-component repository, whatever its payload", () => {
    expect(componentOfDeployment("", single)).toBe("app");
    expect(componentOfDeployment({ service: "web" }, single)).toBe("app");
  });
});

describe("the last good deployments on GitHub", () => {
  it("count one made by another tool, with the good one before it as the rollback target", async () => {
    const scope = mockDeployments("production", [
      { id: 12, sha: OTHER_TOOL_SHA, payload: { component: "backend" } },
      { id: 11, sha: EARLIER_SHA, payload: '{"component":"backend"}' },
    ]);
    const octokit = new TestOctokit({ auth: "ghs_test" });
    const found = await lastGoodDeploymentsOnGitHub(octokit, { owner: "acme", repo: "shop" }, config, [
      { component: "backend", environment: "production" },
    ]);
    expect(scope.isDone()).toBe(true);
    expect(found).toEqual([
      {
        component: "backend",
        environment: "production",
        sha: OTHER_TOOL_SHA,
        deploymentId: 12,
        at: "2026-10-01T10:00:00Z",
        previousSha: EARLIER_SHA,
      },
    ]);
  });

  it("count any successful deployment of the environment for a single component", async () => {
    const scope = mockDeployments("production", [{ id: 30, sha: OTHER_TOOL_SHA, payload: "" }]);
    const octokit = new TestOctokit({ auth: "ghs_test" });
    const found = await lastGoodDeploymentsOnGitHub(octokit, { owner: "acme", repo: "shop" }, single, [
      { component: "app", environment: "production" },
    ]);
    expect(scope.isDone()).toBe(true);
    expect(found.map((f) => f.sha)).toEqual([OTHER_TOOL_SHA]);
  });
});
