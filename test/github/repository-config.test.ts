import nock from "nock";
import { describe, expect, it } from "vitest";
import { DeploybotOctokit } from "../../src/github/octokit.js";
import { loadRepoConfig } from "../../src/github/repository.js";
import { OWNER, REPO } from "../helpers/fixtures.js";
import { API, CONFIG_YAML } from "../helpers/github-mocks.js";

const Octokit = DeploybotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } });
const octokit = () => new Octokit({ auth: "ghs_test" });
const ref = { owner: OWNER, repo: REPO };
const CONFIG_PATH = "/contents/.github%2Fdeploybot.yml";

/** The repository answers with its default branch, then each repository's config file in turn. */
function mockConfigFiles(files: { repo: string; yaml: string | null; ref?: string }[]): nock.Scope {
  const scope = nock(API)
    .get(`/repos/${OWNER}/${REPO}`)
    .reply(200, { name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: "main" });
  for (const file of files) {
    const request = scope
      .get(`/repos/${OWNER}/${file.repo}${CONFIG_PATH}`)
      .query(file.ref ? { ref: file.ref } : {});
    if (file.yaml === null) request.reply(404, { message: "Not Found" });
    else request.reply(200, file.yaml, { "content-type": "text/plain; charset=utf-8" });
  }
  return scope;
}

const [SHARED_ENVIRONMENTS, OWN_SETTINGS] = (() => {
  const index = CONFIG_YAML.indexOf("environments:");
  const rest = CONFIG_YAML.slice(index);
  const end = rest.indexOf("\nslack:");
  return [rest.slice(0, end + 1), CONFIG_YAML.slice(0, index) + rest.slice(end + 1)];
})();

describe("the repository config with shared defaults", () => {
  it("merges the organisation's .github file under the repository's own keys", async () => {
    const scope = mockConfigFiles([
      { repo: REPO, ref: "main", yaml: `_extends: .github\n${OWN_SETTINGS}` },
      { repo: ".github", yaml: `${SHARED_ENVIRONMENTS}branch: trunk\n` },
    ]);

    const loaded = await loadRepoConfig(octokit(), ref);

    expect(scope.isDone()).toBe(true);
    if (loaded.kind !== "ok") throw new Error(`expected a config, got ${JSON.stringify(loaded)}`);
    expect(loaded.config.environments.map((e) => e.name)).toEqual(["staging", "production"]);
    expect(Object.keys(loaded.config.components)).toEqual(["backend", "frontend"]);
    expect(loaded.config.branch).toBe("main");
    expect(loaded.source).not.toHaveProperty("_extends");
    expect(loaded.files).toEqual([
      `${OWNER}/${REPO}:.github/deploybot.yml`,
      `${OWNER}/.github:.github/deploybot.yml`,
    ]);
  });

  it("uses the organisation's file when the repository has none", async () => {
    const scope = mockConfigFiles([
      { repo: REPO, ref: "main", yaml: null },
      { repo: ".github", yaml: CONFIG_YAML },
    ]);

    const loaded = await loadRepoConfig(octokit(), ref);

    expect(scope.isDone()).toBe(true);
    expect(loaded).toMatchObject({ kind: "ok", files: [`${OWNER}/.github:.github/deploybot.yml`] });
  });

  it("names the shared file and the field when the problem comes from there", async () => {
    const scope = mockConfigFiles([
      { repo: REPO, ref: "main", yaml: `_extends: .github\n${OWN_SETTINGS}` },
      {
        repo: ".github",
        yaml: SHARED_ENVIRONMENTS.replace("    approvers: [U01APPROVER, S01RELEASETEAM]\n", ""),
      },
    ]);

    const loaded = await loadRepoConfig(octokit(), ref);

    expect(scope.isDone()).toBe(true);
    expect(loaded).toEqual({
      kind: "invalid",
      file: `${OWNER}/${REPO}:.github/deploybot.yml`,
      problems: [
        `environments[1].approvers: approval: required needs at least one approver (a Slack user or user-group id or api:<token name> in approvers, or a GitHub login or org/team in github_approvers) (set in ${OWNER}/.github:.github/deploybot.yml)`,
      ],
    });
  });

  it("reports an _extends it cannot follow instead of ignoring it", async () => {
    const scope = mockConfigFiles([
      { repo: REPO, ref: "main", yaml: `_extends: "not a repo!"\n${OWN_SETTINGS}` },
    ]);

    const loaded = await loadRepoConfig(octokit(), ref);

    expect(scope.isDone()).toBe(true);
    expect(loaded.kind).toBe("invalid");
    expect(loaded.kind === "invalid" && loaded.problems[0]).toMatch(
      /Invalid value "not a repo!" for _extends/,
    );
  });

  it("is missing when neither the repository nor the organisation has the file", async () => {
    const scope = mockConfigFiles([
      { repo: REPO, ref: "main", yaml: null },
      { repo: ".github", yaml: null },
    ]);

    await expect(loadRepoConfig(octokit(), ref)).resolves.toEqual({ kind: "missing" });
    expect(scope.isDone()).toBe(true);
  });
});
