import { z } from "zod";
import { DECISION_CHANNELS, decidedBy } from "./decided-by.js";
import { NextStep, Sha } from "./next-step.js";

/**
 * The data of each thread event type, one zod schema per type: an event's `data` is checked by the
 * schema of its type (see `EventData` in `events.ts`), here and nowhere else.
 */

const text = (max: number) => z.string().max(max);

export const PrMerged = z.object({
  installation_id: z.number().int(),
  owner: z.string(),
  repo: z.string(),
  number: z.number().int(),
  title: text(300),
  body: text(2_000),
  author: z.string(),
  merge_sha: Sha,
  base_ref: z.string(),
  html_url: z.string(),
});

export const ConfigLoaded = z.object({
  /** The parsed YAML as it was at the trigger, re-validated when read (see `configOf`). */
  source: z.record(z.string(), z.unknown()),
  default_branch: z.string(),
});

export const ConfigInvalid = z.object({ file: z.string(), problems: z.array(z.string()).max(20) });

export const ChangesClassified = z.object({
  files_total: z.number().int(),
  components: z.array(
    z.object({ name: z.string(), files: z.array(z.string()).max(20), files_total: z.number().int() }),
  ),
  unmatched_total: z.number().int(),
});

export const DeployedVersions = z.object({
  entries: z.array(
    z.object({
      component: z.string(),
      environment: z.string(),
      sha: Sha.nullable(),
      deployment_id: z.number().int().nullable(),
      at: z.string().nullable(),
      source: z.enum(["deploybot", "github", "none"]),
      /** The good SHA before the current one: where a rollback of the current one goes. */
      previous_sha: Sha.nullable().default(null),
    }),
  ),
});

export const CiState = z.object({
  sha: Sha,
  state: z.enum(["success", "failure", "pending", "none"]),
  summary: text(500),
});

export const DecisionMeta = z.object({
  decider: z.enum(["openai", "rules"]),
  model: z.string(),
  prompt_hash: z.string(),
  tokens_in: z.number().int().nullable(),
  tokens_out: z.number().int().nullable(),
  latency_ms: z.number().int(),
});

export const Decision = DecisionMeta.extend({ step: NextStep });
export const DecisionError = DecisionMeta.extend({ error: text(500) });

export const PolicyRefused = z.object({ step: NextStep, reason: text(500) });

/** A step the policy allows but that must wait, e.g. for another deploy to the same place. */
export const StepDeferred = z.object({
  step: NextStep,
  reason: text(500),
  lock_key: z.string(),
  /** When the hold ends by itself (a window opens, a freeze or a bake ends), ISO 8601. */
  until: z.iso.datetime({ offset: true }).optional(),
});

export const ApprovalRequested = z.object({
  approval_id: z.string(),
  step: NextStep,
  expires_at: z.string().nullable(),
  /** Distinct approvers the step needs (`approvals_required`); absent on requests stored before: one. */
  approvals_required: z.number().int().min(1).optional(),
  /** Why approval is asked beyond the environment's setting, e.g. a deploy outside its windows. */
  why: text(500).optional(),
});
export const ApprovalGranted = decidedBy({});

export const ApprovalRejected = decidedBy({ reason: text(2_000) });
export const ApprovalExpired = z.object({ approval_id: z.string() });

/** The policy let this step run; its seq is the step's idempotency key. */
export const DeployAuthorized = z.object({
  step: NextStep,
  kind: z.enum(["deploy", "rollback"]),
  component: z.string(),
  environment: z.string(),
  sha: Sha,
  lock_key: z.string(),
});

export const DeploymentCreated = z.object({
  step_seq: z.number().int(),
  deployment_id: z.number().int(),
  component: z.string(),
  environment: z.string(),
  sha: Sha,
});

/**
 * `deployments: actions`: the workflow was dispatched before any deployment exists; the deployment
 * the run's job creates for its `environment:` is adopted when GitHub reports it.
 */
export const RunDispatched = z.object({
  step_seq: z.number().int(),
  workflow: z.string(),
  run_id: z.number().int(),
  run_url: z.string().nullable(),
});

export const DeployDispatched = z.object({
  deployment_id: z.number().int(),
  workflow: z.string(),
  run_id: z.number().int().nullable(),
  run_url: z.string().nullable(),
});

export const DeployFinished = z.object({
  deployment_id: z.number().int().nullable(),
  component: z.string(),
  environment: z.string(),
  sha: Sha,
  outcome: z.enum(["success", "failure"]),
  summary: text(1_000),
  /** `abandoned`: the thread ended (cancelled) before the deployment was dispatched. */
  source: z.enum(["deployment_status", "workflow_run", "dispatch", "create", "timeout", "abandoned"]),
  log_url: z.string().nullable(),
});

export const HumanNeeded = z.object({ question: text(2_000), reason: text(1_000) });
export const HumanAnswered = z.object({ answer: text(2_000), slack_user: z.string().nullable() });

/** A request from Slack (an app mention or `/deploybot <text>`) that started this thread. */
export const ChatRequest = z.object({
  text: text(2_000),
  /** The Slack user who asked; null for a request through the REST API. */
  slack_user: z.string().nullable(),
  /** Where the request was made in Slack (its replies go there); null for the REST API. */
  channel: z.string().nullable(),
  ts: z.string().nullable(),
  source: z.enum(["mention", "command", "api", "pr_comment"]),
  /** The REST API client (its token's name), or the GitHub login of a `/deploybot` PR comment. */
  requested_by: z.string().nullable().default(null),
  /**
   * A break-glass declared with the request (`--break-glass "<reason>"`, or the REST API's
   * `break_glass`): its steps in `environment` (any environment that lists `by`, when null) run
   * without approval, windows, freezes and bake if `by` is listed in the environment's `break_glass`.
   */
  break_glass: z
    .object({
      by: z.string(),
      channel: z.enum(DECISION_CHANNELS),
      reason: text(500).min(1),
      environment: z.string().nullable(),
    })
    .nullable()
    .optional(),
  installation_id: z.number().int(),
  owner: z.string(),
  repo: z.string(),
});

/**
 * The pull request of the commit a thread deploys, when the thread started elsewhere (Slack, the
 * REST API, another PR's comment): its comment goes there, and its author may not approve.
 */
export const PrFound = z.object({
  number: z.number().int(),
  author: z.string(),
  html_url: z.string(),
  sha: Sha,
});

/** The commit at the tip of the deploy branch when a thread started without a merge. */
export const BranchHead = z.object({ branch: z.string(), sha: Sha });

/** A Slack message deploybot posted (or failed to post, permanently) for a notification key. */
export const SlackPosted = z.object({
  key: z.string(),
  purpose: z.enum(["root", "approval", "approval_update", "reminder", "question", "progress"]),
  channel: z.string(),
  ts: z.string().nullable(),
  error: text(300).nullable().default(null),
});

/** deploybot is about to post a Slack message for a notification key (so a crash can be told apart). */
export const SlackPosting = z.object({ key: z.string() });

/**
 * deploybot is about to make a GitHub write that creates something (`deployment:<step seq>`,
 * `dispatch:<deployment id>`): after any doubt (a crash, a 5xx, a timeout) it looks for the result
 * before writing again.
 */
export const GitHubWriting = z.object({ key: z.string() });

/** deploybot is about to post the thread's comment on its pull request (so a crash can be told apart). */
export const PrCommentPosting = z.object({ number: z.number().int() });

/**
 * The thread's pull request comment now shows the body with this digest; or GitHub refused it for
 * good (`error`, e.g. no permission), and the thread stops commenting.
 */
export const PrCommentSynced = z.object({
  number: z.number().int(),
  comment_id: z.number().int().nullable(),
  digest: z.string(),
  error: text(300).nullable().default(null),
});

/** A service the thread needs did not answer; the step is retried with backoff. */
export const ServiceUnavailable = z.object({ service: z.enum(["github", "slack"]), error: text(300) });

/** A human (through the REST API) paused, resumed or cancelled the thread. */
export const Paused = z.object({ by: z.string(), reason: text(500).nullable() });
export const Resumed = z.object({ by: z.string() });
export const Cancelled = z.object({ by: z.string(), reason: text(500).nullable() });

export const Done = z.object({ message: text(2_000), by: z.enum(["code", "model"]) });
export const Failed = z.object({ reason: text(1_000) });

/** A step ran without its approval, window, freeze or bake because a listed person broke glass. */
export const BreakGlassUsed = z.object({
  step: NextStep,
  /** The Slack user id, the GitHub login or the API client's token name. */
  by: z.string(),
  reason: text(500).min(1),
  channel: z.enum(DECISION_CHANNELS),
  /** What it skipped: approval, freeze, window, bake. */
  skipped: z.array(z.enum(["approval", "freeze", "window", "bake"])).default([]),
});

/** The environment's `verify` workflow was dispatched after a successful deploy. */
export const VerifyDispatched = z.object({
  environment: z.string(),
  component: z.string(),
  sha: Sha,
  workflow: z.string(),
  run_id: z.number().int().nullable().default(null),
  run_url: z.string().nullable().default(null),
});

/** The verification's result: a failure blocks promotion and is a failure the decider sees. */
export const VerifyFinished = z.object({
  environment: z.string(),
  component: z.string(),
  sha: Sha,
  /** `timed_out`: no result within the environment's `deploy_timeout`; all but success block promotion. */
  conclusion: z.enum(["success", "failure", "cancelled", "timed_out"]),
  url: z.string().nullable().default(null),
  summary: text(1_000).nullable().default(null),
});

/**
 * GitHub's comparison of two commits (the compare API), looked up before judging a deploy over a
 * different commit: `status` says where `head` stands relative to `base`.
 */
export const CommitsCompared = z.object({
  base: Sha,
  head: Sha,
  status: z.enum(["ahead", "behind", "identical", "diverged"]),
  ahead_by: z.number().int(),
  behind_by: z.number().int(),
});
