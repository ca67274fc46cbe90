/**
 * Generates schema/deploybot.schema.json, the JSON Schema editors use to check
 * `.github/deploybot.yml`, from the zod schema deploybot itself validates the file with.
 *
 *   npm run schema              write the file
 *   npm run schema -- --check   exit 1 if the committed file differs from the generated one (CI)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { AnswerStep } from "../src/thread/next-step.js";
import { REPO_CONFIG_PATH, RepoConfigSchema } from "../src/config/repo-config.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SCHEMA_FILE = resolve(ROOT, "schema", "deploybot.schema.json");
const ANSWER_SCHEMA_FILE = resolve(ROOT, "schema", "next-step.schema.json");

/** No public URL is fixed for the schema yet; a URN is a valid absolute `$id` that promises none. */
const SCHEMA_ID = "urn:deploybot:schema:deploybot.yml";

type JsonSchema = Record<string, unknown>;

/** Editor hover texts, keyed by the path through `properties`, `items` and `additionalProperties`. */
const DESCRIPTIONS: [path: string[], text: string][] = [
  [["properties", "branch"], "Merges into this branch start a deploy. Default: main."],
  [
    ["properties", "components"],
    "Deployable parts of the repository, by name (lowercase letters, digits, '-' or '_'). " +
      "The model proposes deploy_<name> for each.",
  ],
  [
    ["properties", "components", "additionalProperties", "properties", "paths"],
    "Globs (picomatch, dot files included) of the files that belong to this component. " +
      "A merged PR that changes a matching file deploys the component.",
  ],
  [
    ["properties", "components", "additionalProperties", "properties", "workflow"],
    "File name of the GitHub Actions workflow in .github/workflows/ that deploys this component. " +
      "It is dispatched with the inputs environment, sha, component and deployment_id.",
  ],
  [
    ["properties", "environments"],
    "Environments in promotion order: a SHA is deployed to each one before the next.",
  ],
  [["properties", "environments", "items", "properties", "name"], "The GitHub Deployments environment name."],
  [
    ["properties", "environments", "items", "properties", "approval"],
    "required: a deploy into this environment waits for an approver in Slack. Default: not_required.",
  ],
  [
    ["properties", "environments", "items", "properties", "approvers"],
    "Slack user (U…/W…) and user-group (S…) ids that may approve. Needed when approval is required.",
  ],
  [
    ["properties", "environments", "items", "properties", "approval_expires_after"],
    "How long an approval request stays open: a number with s, m, h or d (30m, 24h, 7d), or never. Default: 24h.",
  ],
  [
    ["properties", "environments", "items", "properties", "rollback_approval"],
    "Whether a rollback into this environment needs approval. Default: the value of approval.",
  ],
  [
    ["properties", "environments", "items", "properties", "deploy_timeout"],
    "How long a deploy may run without a final status before deploybot ends it as failed: " +
      "a number with s, m, h or d, or never. Default: 30m.",
  ],
  [
    ["properties", "environments", "items", "properties", "required_contexts"],
    "Commit status contexts GitHub must report as success on the SHA before it accepts the deployment. " +
      "Omitted: GitHub does not check commit statuses.",
  ],
  [
    ["properties", "environments", "items", "properties", "ci"],
    "What the CI of a commit must show before it is deployed here: passing (every check succeeded; " +
      "pending waits), not_failing (no check failed) or ignore. Rollbacks are not checked. Default: not_failing.",
  ],
  [
    ["properties", "environments", "items", "properties", "bake"],
    "Promotion of what deployed here to the next environment waits this long after its success " +
      "(15m, 1h). Break-glass skips it. Default: none.",
  ],
  [
    ["properties", "environments", "items", "properties", "verify"],
    "A workflow file dispatched after a successful deploy here (inputs environment, sha, component); " +
      "its success is required before the next environment, and break-glass does not skip it.",
  ],
  [
    ["properties", "environments", "items", "properties", "approvals_required"],
    "Distinct approvers needed (never the PR's author; one person across Slack, GitHub and the API " +
      "through users:). Default: 1.",
  ],
  [
    ["properties", "environments", "items", "properties", "break_glass"],
    "GitHub logins, Slack user ids (U…/W…) and api:<token name> that may run a step without approval, " +
      "windows, freezes and bake, by declaring it with a reason. Never lifts CI, order, locks or verification.",
  ],
  [
    ["properties", "environments", "items", "properties", "windows"],
    "When deploys may start (any listed window). Absent: always. Rollbacks are not held.",
  ],
  [
    ["properties", "environments", "items", "properties", "windows", "items", "properties", "days"],
    "Days a window opens: mon, tue, wed, thu, fri, sat, sun (for hours that wrap midnight, the day it opens).",
  ],
  [
    ["properties", "environments", "items", "properties", "windows", "items", "properties", "hours"],
    'Local hours, end exclusive: "09:00-17:00"; "22:00-06:00" wraps midnight; the end may be 24:00.',
  ],
  [
    ["properties", "environments", "items", "properties", "windows", "items", "properties", "time_zone"],
    "IANA time zone name of the hours, such as Europe/Berlin or UTC.",
  ],
  [
    ["properties", "environments", "items", "properties", "freezes"],
    "Periods without deploys: from (inclusive) and to (exclusive), ISO 8601 with an offset, and a reason. " +
      "Rollbacks are not held.",
  ],
  [
    ["properties", "environments", "items", "properties", "when_closed"],
    "Outside the windows or in a freeze: wait (the step waits until it opens) or approval (the step needs " +
      "an approval that says why). Default: wait.",
  ],
  [["properties", "slack"], "Where deploybot talks to humans."],
  [
    ["properties", "slack", "properties", "channel"],
    "Slack channel id (C…/G…/D…) for approval requests, questions and progress.",
  ],
  [
    ["properties", "users"],
    "GitHub login -> Slack user id, so deploybot can mention PR authors and stop them from approving " +
      "their own production deploy.",
  ],
];

function isObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(schema: JsonSchema, path: string[], text: string): void {
  let node: unknown = schema;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  if (!isObject(node)) {
    throw new Error(
      `no ${path.join(".")} in the generated schema: update DESCRIPTIONS in scripts/generate-schema.ts`,
    );
  }
  node.description = text;
}

function generateSchema(): string {
  // io "input": describe what people write in the file (before defaults and the Duration transform).
  const generated = z.toJSONSchema(RepoConfigSchema, { io: "input", target: "draft-2020-12" }) as JsonSchema;
  const { $schema, ...rest } = generated;
  const schema: JsonSchema = {
    $schema,
    $id: SCHEMA_ID,
    title: "deploybot repository configuration",
    description: `The ${REPO_CONFIG_PATH} file, read from the repository's default branch. See docs/configuration.md.`,
    ...rest,
  };
  for (const [path, text] of DESCRIPTIONS) describe(schema, path, text);
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** The model output contract: one JSON object in one of four shapes (see docs/architecture.md). */
function generateAnswerSchema(): string {
  const generated = z.toJSONSchema(AnswerStep, { io: "input", target: "draft-2020-12" }) as JsonSchema;
  const { $schema, ...rest } = generated;
  const schema: JsonSchema = {
    $schema,
    $id: "urn:deploybot:schema:next-step",
    title: "deploybot next step",
    description:
      "What a decider answers: deploy_<component> (a component of the repository's config), rollback, " +
      "ask_human or done_for_now. A commit is a full 40-hex SHA (always accepted), a label the context " +
      "defines (merge, tip, previous) or a short SHA of a commit the thread names; code resolves it.",
    ...rest,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

function main(argv: string[]): number {
  const check = argv.includes("--check");
  let status = 0;
  for (const [target, expected, source] of [
    [SCHEMA_FILE, generateSchema(), "src/config/repo-config.ts"],
    [ANSWER_SCHEMA_FILE, generateAnswerSchema(), "src/thread/next-step.ts"],
  ] as const) {
    const file = relative(process.cwd(), target);
    if (check) {
      const actual = existsSync(target) ? readFileSync(target, "utf8") : null;
      if (actual === expected) {
        console.log(`${file} is up to date.`);
        continue;
      }
      console.error(
        `${file} ${actual === null ? "is missing" : `is out of date with ${source}`}: ` +
          "run `npm run schema` and commit the result.",
      );
      status = 1;
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, expected);
    console.log(`wrote ${file}`);
  }
  return status;
}

process.exitCode = main(process.argv.slice(2));
