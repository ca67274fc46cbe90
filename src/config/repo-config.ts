import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { deploySafetyFields, deploySafetyProblems } from "./deploy-safety.js";

/** Where a repository keeps its deploybot settings, read from its default branch. */
export const REPO_CONFIG_PATH = ".github/deploybot.yml";

const name = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, "use lowercase letters, digits, '-' or '_', starting with a letter");

/** An approver in `approvers`: a Slack user or user-group id, or a REST API token's name as `api:<name>`. */
const approverId = z
  .string()
  .regex(
    /^([UWS][A-Z0-9]{2,}|api:[\w.-]{1,64})$/,
    "expected a Slack user (U…/W…) or user-group (S…) id, or api:<token name>",
  );

/** A GitHub approver: a login, or a team as `org/team-slug`. */
const githubApprover = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,38}(\/[A-Za-z0-9][A-Za-z0-9_.-]{0,99})?$/,
    "expected a GitHub login (octocat) or a team as org/team-slug (acme/release-team)",
  );

/** `30m`, `24h`, `7d`, or `never`; parsed into milliseconds (`null` for never). */
export const Duration = z
  .string({ error: "expected a duration such as 30m, 24h, 7d, or never" })
  .regex(/^(never|\d+[smhd])$/, "expected a duration such as 30m, 24h, 7d, or never")
  .transform((text) => {
    if (text === "never") return null;
    const amount = Number(text.slice(0, -1));
    const unit = text.slice(-1) as "s" | "m" | "h" | "d";
    return amount * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit];
  });

export const ComponentConfig = z.strictObject({
  paths: z.array(z.string().min(1)).min(1, "list at least one glob"),
  workflow: z.string().regex(/^[\w.-]+\.ya?ml$/, "expected a workflow file name such as deploy-backend.yml"),
});

export const EnvironmentConfig = z.strictObject({
  name,
  approval: z.enum(["required", "not_required"]).default("not_required"),
  approvers: z.array(approverId).default([]),
  github_approvers: z.array(githubApprover).default([]),
  approval_expires_after: Duration.prefault("24h"),
  rollback_approval: z.enum(["required", "not_required"]).optional(),
  deploy_timeout: Duration.prefault("30m"),
  required_contexts: z.array(z.string()).optional(),
  /**
   * What CI of a commit must show before it is deployed here: `passing` (every check succeeded; a
   * pending CI waits), `not_failing` (no check failed), or `ignore`.
   */
  ci: z.enum(["passing", "not_failing", "ignore"]).default("not_failing"),
  /** Promotion of what deployed here to the next environment waits this long after its success. */
  bake: Duration.refine(
    (ms) => ms !== null,
    "expected a duration such as 15m or 1h (never is not a bake time)",
  )
    .transform((ms) => ms as number)
    .optional(),
  ...deploySafetyFields,
});

export const RepoConfigSchema = z
  .strictObject({
    /**
     * Shared defaults: another repository of the owner (`.github`), `owner/repo`, or
     * `owner/repo:path.yml`. Its top-level keys apply where this file does not set them.
     */
    _extends: z.string().min(1).optional(),
    branch: z.string().min(1).default("main"),
    /**
     * `deploybot`: deploybot creates each GitHub Deployment and the workflow reports on it.
     * `actions`: the workflow's job names its `environment:`; Actions creates the deployment and
     * deploybot adopts it (environment secrets, protection rules and GitHub's history kept).
     */
    deployments: z.enum(["deploybot", "actions"]).default("deploybot"),
    components: z
      .record(z.string(), ComponentConfig)
      .refine((components) => Object.keys(components).length > 0, "define at least one component"),
    environments: z.array(EnvironmentConfig).min(1, "list at least one environment, in promotion order"),
    slack: z
      .strictObject({ channel: z.string().regex(/^[CGD][A-Z0-9]{2,}$/, "expected a channel id") })
      .optional(),
    users: z
      .record(z.string(), z.string().regex(/^[UW][A-Z0-9]{2,}$/, "expected a Slack user id"))
      .default({}),
  })
  .superRefine((config, ctx) => {
    for (const key of Object.keys(config.components)) {
      const checked = name.safeParse(key);
      if (!checked.success) {
        ctx.addIssue({
          code: "custom",
          path: ["components", key],
          message: `component name ${checked.error.issues[0]?.message ?? "is invalid"}`,
        });
      }
    }
    // GitHub logins compare case-insensitively: two spellings of one login are one person.
    const logins = new Map<string, string>();
    for (const login of Object.keys(config.users)) {
      const earlier = logins.get(login.toLowerCase());
      if (earlier !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["users", login],
          message: `"${login}" and "${earlier}" are the same GitHub login (logins ignore case): keep one`,
        });
      }
      logins.set(login.toLowerCase(), login);
    }
    const seen = new Set<string>();
    config.environments.forEach((environment, index) => {
      if (seen.has(environment.name)) {
        ctx.addIssue({
          code: "custom",
          path: ["environments", index, "name"],
          message: `duplicate environment "${environment.name}"`,
        });
      }
      seen.add(environment.name);
      if (
        environment.approval === "required" &&
        environment.approvers.length === 0 &&
        environment.github_approvers.length === 0
      ) {
        ctx.addIssue({
          code: "custom",
          path: ["environments", index, "approvers"],
          message:
            "approval: required needs at least one approver (a Slack user or user-group id or api:<token name> in approvers, or a GitHub login or org/team in github_approvers)",
        });
      }
      for (const problem of deploySafetyProblems(environment, config.users)) {
        ctx.addIssue({
          code: "custom",
          path: ["environments", index, problem.field],
          message: problem.message,
        });
      }
    });
  });

export type RepoConfig = z.output<typeof RepoConfigSchema>;
export type EnvironmentSettings = RepoConfig["environments"][number];

export class RepoConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "RepoConfigError";
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  return path
    .map((part, index) =>
      typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`,
    )
    .join("");
}

/**
 * Validates a config object. `fileOf` names the file a top-level key came from when the config was
 * merged from several files (`_extends`); a problem in another file than `file` says which.
 */
export function validateRepoConfig(
  raw: unknown,
  file = REPO_CONFIG_PATH,
  fileOf: (key: string) => string = () => file,
): RepoConfig {
  const result = RepoConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new RepoConfigError(
      file,
      result.error.issues.map((issue) => {
        const origin = typeof issue.path[0] === "string" ? fileOf(issue.path[0]) : file;
        const problem = `${fieldPath(issue.path)}: ${issue.message}`;
        return origin === file ? problem : `${problem} (set in ${origin})`;
      }),
    );
  }
  return result.data;
}

/** Parses the text of `.github/deploybot.yml`; every problem names the file and the field. */
export function parseRepoConfig(text: string, file = REPO_CONFIG_PATH): RepoConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    const message = error instanceof YAMLParseError ? error.message.split("\n")[0] : String(error);
    throw new RepoConfigError(file, [`not valid YAML: ${message}`]);
  }
  return validateRepoConfig(raw, file);
}

/**
 * The Slack user id the `users:` mapping gives a GitHub login, or null. Logins compare
 * case-insensitively, as GitHub treats them: `Codertocat` in a webhook is `codertocat` in the config.
 */
export function slackUserOfLogin(config: RepoConfig, login: string): string | null {
  const wanted = login.toLowerCase();
  for (const [mapped, slackUser] of Object.entries(config.users)) {
    if (mapped.toLowerCase() === wanted) return slackUser;
  }
  return null;
}

export function environmentIndex(config: RepoConfig, environment: string): number {
  return config.environments.findIndex((e) => e.name === environment);
}

export function lastEnvironment(config: RepoConfig): EnvironmentSettings {
  return config.environments[config.environments.length - 1]!;
}
