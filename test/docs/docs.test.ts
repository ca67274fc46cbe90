import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import nock from "nock";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { EnvError, EnvSchema, parseSettings } from "../../src/config/env.js";
import { parseRepoConfig, RepoConfigError, validateRepoConfig } from "../../src/config/repo-config.js";
import { DeploybotOctokit } from "../../src/github/octokit.js";
import { loadRepoConfig } from "../../src/github/repository.js";
import { MAX_API_BODY_BYTES } from "../../src/http/api-schemas.js";
import { MAX_BODY_BYTES } from "../../src/http/body.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

/** The docs say what the code does: every example, message, variable, metric and limit is checked. */

const read = (path: string) => readFileSync(path, "utf8");
const DOCS = [
  "README.md",
  ...readdirSync("docs")
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const configuration = read("docs/configuration.md");
const operations = read("docs/operations.md");
const readme = read("README.md");

/** The fenced blocks of a markdown text with the given info string. */
function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(heading);
  if (start < 0) throw new Error(`no section ${heading}`);
  const rest = markdown.slice(start + heading.length);
  const level = heading.split(" ")[0]!;
  const end = rest.search(new RegExp(`\\n${level} `));
  return end < 0 ? rest : rest.slice(0, end);
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof RepoConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("the docs", () => {
  it("stand on their own: no pointer outside the repository, every relative link resolves", () => {
    for (const file of DOCS) {
      const text = read(file);
      expect(text, file).not.toMatch(/DESIGN|\.\.\/shared|techbrief/);
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        expect(existsSync(join(dirname(file), target!)), `${file} links ${target}`).toBe(true);
      }
    }
  });

  it("list exactly the environment variables deploybot reads", () => {
    const table = section(configuration, "## Environment variables");
    const documented = [...table.matchAll(/^\| `([A-Z_]+)`/gm)].map((m) => m[1]!);
    expect(documented.sort()).toEqual(Object.keys(EnvSchema.shape).sort());
  });

  it("and .env.example name every variable deploybot reads", () => {
    const example = read(".env.example");
    for (const name of Object.keys(EnvSchema.shape))
      expect(example, name).toMatch(new RegExp(`^# ${name}=`, "m"));
  });

  it("quote the start-up error deploybot prints for a bad environment", () => {
    let message = "";
    try {
      parseSettings({ DATABASE_URL: "mysql://db/deploybot", DEPLOYBOT_WORKER_POLL_MS: "5" });
    } catch (error) {
      if (error instanceof EnvError) message = `deploybot could not start: ${error.message}`;
    }
    const quoted = blocks(section(configuration, "## Environment variables"), "text");
    expect(quoted).toContain(`${message}\n`);
  });

  it("quote only repository config errors deploybot prints", async () => {
    const example = CONFIG_YAML;
    const printed = new Set<string>([
      ...problemsOf(() =>
        parseRepoConfig(example.replace("    approvers: [U01APPROVER, S01RELEASETEAM]\n", "")),
      ),
      ...problemsOf(() =>
        parseRepoConfig(
          example.replace(
            '    paths: ["api/**", "server/**"]\n    workflow: deploy-backend.yml',
            "    paths: []\n    workflow: deploy backend",
          ),
        ),
      ),
      ...problemsOf(() => parseRepoConfig(example.replace("  - name: production", "  - name: staging"))),
      ...problemsOf(() =>
        parseRepoConfig(
          `${example
            .replace("  - name: staging", "  - name: staging\n    approval: maybe\n    approvers: [X01]")
            .replace("channel: C01DEPLOYS", "channel: deploys")
            .replace("octocat: U01OCTOCAT", "octocat: octocat")}colour: blue\n`,
        ),
      ),
      ...problemsOf(() => parseRepoConfig("")),
      ...problemsOf(() => parseRepoConfig("components: {}\nenvironments: []\n")),
      ...problemsOf(() => parseRepoConfig(example.replace("  backend:", "  Backend:"))),
      ...problemsOf(() =>
        parseRepoConfig(example.replace("  - name: staging", "  - name: staging\n    deploy_timeout: 90")),
      ),
      ...problemsOf(() =>
        parseRepoConfig(
          example.replace(
            "    approval_expires_after: 24h\n",
            [
              "    approval_expires_after: 24h",
              "    break_glass: [acme/oncall]",
              "    windows:",
              "      - days: [monday]",
              '        hours: "9-17"',
              "        time_zone: Europe/Berln",
              "    freezes:",
              '      - from: "2026-12-20T00:00:00+01:00"',
              '        to: "2026-12-01T00:00:00+01:00"',
              "        reason: Year-end freeze",
              "",
            ].join("\n"),
          ),
        ),
      ),
      ...problemsOf(() =>
        parseRepoConfig(
          example
            .replace("[U01APPROVER, S01RELEASETEAM]", "[U01APPROVER, U02OTHER]")
            .replace(
              "    approval_expires_after: 24h\n",
              "    approval_expires_after: 24h\n    approvals_required: 3\n",
            ),
        ),
      ),
      ...problemsOf(() => parseRepoConfig("components: [unclosed")).map((p) => p.replace(/:.*$/, ": ...")),
      ...problemsOf(() => {
        const raw = parseYaml(example) as Record<string, unknown>;
        const environments = (raw.environments as Record<string, unknown>[]).map(
          ({ approvers: _a, ...rest }) => rest,
        );
        validateRepoConfig({ ...raw, environments }, "acme/shop:.github/deploybot.yml", (key) =>
          key === "environments" ? "acme/.github:.github/deploybot.yml" : "acme/shop:.github/deploybot.yml",
        );
      }),
    ]);
    const scope = nock("https://api.github.com")
      .get("/repos/acme/shop")
      .reply(200, { default_branch: "main" })
      .get("/repos/acme/shop/contents/.github%2Fdeploybot.yml")
      .query({ ref: "main" })
      .reply(200, '_extends: "not a repo!"\n', { "content-type": "text/plain" });
    const Octokit = DeploybotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } });
    const loaded = await loadRepoConfig(new Octokit({ auth: "t" }), { owner: "acme", repo: "shop" });
    expect(scope.isDone()).toBe(true);
    for (const problem of loaded.kind === "invalid" ? loaded.problems : []) {
      printed.add(
        problem.replace(
          /^Invalid value "[^"]*" for _extends in .*$/,
          'Invalid value "..." for _extends in ...',
        ),
      );
    }

    const errors = section(configuration, "### Errors");
    const quoted = [
      ...blocks(errors, "text").flatMap((block) =>
        block
          .split("\n")
          .filter((l) => l.startsWith("  - "))
          .map((l) => l.slice(4)),
      ),
      ...[...errors.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]!),
    ];
    expect(quoted.length).toBeGreaterThan(10);
    for (const line of quoted) expect([...printed], line).toContain(line);
    for (const block of blocks(errors, "text"))
      expect(block).toMatch(/^acme\/shop:\.github\/deploybot\.yml is invalid:\n/);
  });

  it("show only valid repository configs", () => {
    const example = parseYaml(CONFIG_YAML) as Record<string, unknown>;
    const yamlBlocks = [...blocks(configuration, "yaml"), ...blocks(readme, "yaml")];
    expect(yamlBlocks.length).toBeGreaterThan(4);
    for (const block of yamlBlocks) {
      const raw = (parseYaml(block) ?? {}) as Record<string, unknown>;
      const { _extends: _ignored, ...own } = raw;
      // A partial example (only environments, say) is read over the full example, as _extends would.
      expect(() => validateRepoConfig({ ...example, ...own }), block).not.toThrow();
    }
    expect(() => parseRepoConfig(read("examples/deploybot.yml"))).not.toThrow();
  });
});

describe("the operations guide", () => {
  async function exported(): Promise<string[]> {
    const store = new SqliteStore(":memory:");
    await store.migrate();
    const metrics = createMetrics();
    metrics.observeStore(store, { oldestQueuedInboxAt: async () => null });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    await store.close();
    return names;
  }

  it("lists exactly the metrics deploybot exports, and Node's default ones it names exist", async () => {
    const names = await exported();
    const table = section(operations, "## Metrics");
    const documented = [...table.matchAll(/^\| `(deploybot_\w+)`/gm)].map((m) => m[1]!);
    expect(documented.sort()).toEqual(names.filter((n) => n.startsWith("deploybot_")).sort());
    for (const [, name] of table.matchAll(/`((?:process|nodejs)_\w+)`/g)) expect(names).toContain(name);
  });

  it("alerts only on metrics that exist", async () => {
    const names = new Set(await exported());
    const [rules] = blocks(operations, "yaml");
    const parsed = parseYaml(rules!) as { groups: { rules: { expr: string }[] }[] };
    const used = parsed.groups.flatMap((g) =>
      g.rules.flatMap((r) => [...r.expr.matchAll(/deploybot_\w+/g)].map((m) => m[0])),
    );
    expect(used.length).toBeGreaterThan(5);
    for (const name of used) expect(names, name).toContain(name.replace(/_(bucket|sum|count)$/, ""));
  });

  it("states the limits and defaults the code has", () => {
    expect(MAX_API_BODY_BYTES).toBe(64 * 1024);
    expect(readme).toContain("REST API bodies to 64 KB");
    expect(MAX_BODY_BYTES).toBe(1024 * 1024);
    expect(readme).toContain("Webhook and Slack request bodies are limited to 1 MB");
    expect(parseSettings({}).inboxLeaseMs).toBe(60_000);
    expect(operations).toContain("`DEPLOYBOT_INBOX_LEASE_MS`, default 60 s");
    expect(read("Dockerfile")).toMatch(/HEALTHCHECK --interval=30s/);
    expect(operations).toContain("every 30 seconds");
    expect(read("compose.yaml")).toMatch(/stop_grace_period: 30s/);
    expect(operations).toContain("(30 s in `compose.yaml`)");
  });
});
