import { z } from "zod";
import type { LoopDeps } from "../agent/loop-deps.js";
import { approverVerdict, type Decider } from "../agent/approvers.js";
import type { RepoConfig } from "../config/repo-config.js";
import { LOCK_USAGE, parseLockCommand, type LockCommand } from "../github/lock-command.js";
import type { Octokit } from "../github/repository.js";
import { repoRefOf } from "../thread/text.js";
import { changeManualLock, currentConfig, LockChange, type LockOutcome } from "./manual-lock-changes.js";
import { COMMANDING, permissionOf } from "../github/permissions.js";
import { resolveRepository } from "./request-target.js";

/**
 * Who may lock, on each channel, and where each channel's lock command goes: people with write
 * permission on the repository, or listed approvers of the environment (directly: a Slack user id
 * or a GitHub login, not through a group or team); a REST API token or a dashboard session may.
 */

/** The inbox kinds of a lock change queued by the REST API or dashboard, and by Slack. */
export const MANUAL_LOCK_KINDS = { api: "api.manual_lock", slack: "slack.manual_lock" } as const;

/** Whether the decider is listed (directly) as an approver of the environment. */
function listedApprover(config: RepoConfig, environment: string, decider: Decider): boolean {
  return approverVerdict({ config, environment, decider, decision: "reject", prAuthor: null }).ok;
}

/** A lock command in a PR comment; `canWrite` is the commenter's permission, asked already. */
export async function lockFromComment(
  deps: LoopDeps,
  octokit: Octokit,
  input: { repo: string; command: LockCommand; login: string; canWrite: boolean },
): Promise<LockOutcome> {
  const { repo, command, login } = input;
  if (command.repo !== null && command.repo.toLowerCase() !== repo.toLowerCase()) {
    return {
      ok: false,
      text: `Refused: a comment here locks ${repo} only; lock ${command.repo} from there.`,
    };
  }
  const loaded = await currentConfig(octokit, repo);
  if ("problem" in loaded) return { ok: false, text: `Nothing changed: ${loaded.problem}.` };
  const { config } = loaded;
  if (!input.canWrite && !listedApprover(config, command.environment, { channel: "github", login })) {
    return {
      ok: false,
      text: `Refused: locking ${command.environment} needs write permission on ${repo}, or being one of its approvers.`,
    };
  }
  return changeManualLock(deps, config, changeOf(command, repo, login));
}

function changeOf(command: LockCommand, repo: string, by: string): LockChange {
  return {
    action: command.kind,
    repo,
    environment: command.environment,
    component: command.component,
    reason: command.kind === "lock" ? command.reason : null,
    by,
  };
}

/** `/deploybot lock ...` from Slack, queued by the slash command route. */
export const SlackLockRequest = z.object({
  text: z.string().min(1),
  user: z.string().min(1),
  channel: z.string().min(1),
});
export type SlackLockRequest = z.infer<typeof SlackLockRequest>;

/** Slack users listed as approvers, or mapped by `users:` to a login with write permission. */
async function slackUserMayLock(
  octokit: Octokit,
  repo: string,
  config: RepoConfig,
  environment: string,
  user: string,
): Promise<boolean> {
  if (listedApprover(config, environment, { channel: "slack", slackUser: user })) return true;
  const logins = Object.entries(config.users)
    .filter(([, slackUser]) => slackUser === user)
    .map(([login]) => login);
  for (const login of logins) {
    if (COMMANDING.has(await permissionOf(octokit, repoRefOf(repo), login))) return true;
  }
  return false;
}

export async function lockFromSlack(deps: LoopDeps, request: SlackLockRequest): Promise<string> {
  const outcome = await slackLockOutcome(deps, request);
  if (deps.slack) {
    await deps.slack.postEphemeral({ channel: request.channel, user: request.user, text: outcome.text });
  }
  return `${outcome.ok ? "done" : "refused"}: ${outcome.text}`;
}

async function slackLockOutcome(deps: LoopDeps, request: SlackLockRequest): Promise<LockOutcome> {
  const [word = "", ...rest] = request.text.trim().split(/\s+/);
  const command = parseLockCommand(word, rest.join(" "));
  if (command.kind === "invalid")
    return { ok: false, text: `I did not understand that: ${command.problem}.` };
  const target = await resolveRepository(deps, command.repo ?? "", request.channel);
  if (!target) {
    return {
      ok: false,
      text: `I don't know which repository this channel deploys: name it first, e.g. ${LOCK_USAGE.replace("lock <", "lock owner/repo <")}.`,
    };
  }
  const octokit = await deps.octokitFor(target.installationId);
  const loaded = await currentConfig(octokit, target.repo);
  if ("problem" in loaded) return { ok: false, text: `Nothing changed: ${loaded.problem}.` };
  if (!(await slackUserMayLock(octokit, target.repo, loaded.config, command.environment, request.user))) {
    return {
      ok: false,
      text: `Refused: only approvers of ${command.environment}, or people with write permission on ${target.repo} (mapped in \`users:\`), may lock it.`,
    };
  }
  return changeManualLock(deps, loaded.config, changeOf(command, target.repo, request.user));
}

/** A lock or unlock from the REST API or the dashboard, checked by the route already. */
export const ApiLockChange = LockChange.extend({ installation_id: z.number().int() });
export type ApiLockChange = z.infer<typeof ApiLockChange>;

export async function lockFromApi(deps: LoopDeps, change: ApiLockChange): Promise<string> {
  const octokit = await deps.octokitFor(change.installation_id);
  const loaded = await currentConfig(octokit, change.repo);
  if ("problem" in loaded) return `refused: ${loaded.problem}`;
  const { installation_id: _installation, ...lockChange } = change;
  const outcome = await changeManualLock(deps, loaded.config, lockChange);
  return `${outcome.ok ? "done" : "refused"}: ${outcome.text}`;
}
