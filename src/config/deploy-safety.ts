import { z } from "zod";

/**
 * The deploy-safety settings of an environment (quorum, break-glass, deploy windows and freezes,
 * bake time and verification), kept beside the repository config's schema so that file stays the
 * shape of the whole and this one the rules of these fields.
 */

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** The most approvals an environment may ask for: more is a typo, not a policy. */
export const MAX_APPROVALS_REQUIRED = 20;

const weekday = z.enum(WEEKDAYS, {
  error: (issue) =>
    `unknown day ${JSON.stringify(issue.input)}: use ${WEEKDAYS.slice(1).join(", ")}, ${WEEKDAYS[0]}`,
});

const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$/;

/** Minutes since local midnight of `HH:MM-HH:MM` (the end may be 24:00), or null if it is not one. */
export function parseHours(hours: string): { start: number; end: number } | null {
  const match = HOURS.exec(hours);
  if (!match) return null;
  const [sh, sm, eh, em] = match.slice(1).map(Number) as [number, number, number, number];
  return { start: sh * 60 + sm, end: eh * 60 + em };
}

const hours = z
  .string({ error: 'expected hours such as "09:00-17:00"' })
  .regex(HOURS, {
    message: 'expected hours such as "09:00-17:00" (24-hour clock, end exclusive, up to 24:00)',
    abort: true,
  })
  .refine(
    (text) => parseHours(text)?.start !== parseHours(text)?.end,
    "the window starts and ends at the same time: give a range such as 09:00-17:00",
  )
  .refine((text) => (parseHours(text)?.end ?? 0) <= 24 * 60, "a window ends at 24:00 at the latest");

/** Whether Intl knows this IANA time zone name. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false; // RangeError: Intl does not know the zone; the schema reports it
  }
}

export const WindowConfig = z.strictObject({
  days: z.array(weekday).min(1, "list at least one day (mon, tue, ...)"),
  hours,
  time_zone: z
    .string({ error: "expected an IANA time zone name such as Europe/Berlin or UTC" })
    .refine(isTimeZone, {
      error: (issue) =>
        `unknown time zone ${JSON.stringify(issue.input)}: use an IANA name such as Europe/Berlin or UTC`,
    }),
});

const instant = z.iso.datetime({
  offset: true,
  error: "expected an ISO 8601 time with an offset, such as 2026-12-20T00:00:00+01:00",
});

export const FreezeConfig = z
  .strictObject({
    from: instant,
    to: instant,
    reason: z.string().trim().min(1, "say why, in a few words").max(200),
  })
  .refine((freeze) => Date.parse(freeze.from) < Date.parse(freeze.to), {
    path: ["to"],
    message: "the freeze ends before it starts: to must be after from",
  });

/** Who may break glass: a GitHub login, a Slack user id, or a REST API token's name as `api:<name>`. */
export const breakGlassId = z
  .string()
  .regex(
    /^([UW][A-Z0-9]{2,}|api:[\w.-]{1,64}|[A-Za-z0-9][A-Za-z0-9-]{0,38})$/,
    "expected a GitHub login (octocat), a Slack user id (U…/W…) or api:<token name>; teams and user groups cannot break glass",
  );

export const workflowFile = z
  .string()
  .regex(/^[\w.-]+\.ya?ml$/, "expected a workflow file name such as deploy-backend.yml");

/** The deploy-safety fields of an environment, spread into its schema. */
export const deploySafetyFields = {
  approvals_required: z
    .number({ error: "expected a whole number of approvals" })
    .int("expected a whole number of approvals")
    .min(1, "at least 1 approval")
    .max(MAX_APPROVALS_REQUIRED, `at most ${MAX_APPROVALS_REQUIRED} approvals`)
    .default(1),
  break_glass: z.array(breakGlassId).default([]),
  windows: z.array(WindowConfig).optional(),
  freezes: z.array(FreezeConfig).default([]),
  when_closed: z.enum(["wait", "approval"]).default("wait"),
  verify: workflowFile.optional(),
};

export type WindowSettings = z.output<typeof WindowConfig>;
export type FreezeSettings = z.output<typeof FreezeConfig>;

/** What the cross-field rules read of an environment (its parsed settings). */
interface SafetyOf {
  approval: "required" | "not_required";
  rollback_approval?: "required" | "not_required" | undefined;
  approvers: string[];
  github_approvers: string[];
  approvals_required: number;
  when_closed: "wait" | "approval";
}

export interface SafetyProblem {
  /** The field, relative to the environment. */
  field: string;
  message: string;
}

/**
 * The distinct people the listed approvers name, or null when a Slack user group or a GitHub team
 * is listed (its size is only known at run time). A GitHub login mapped by `users:` to a listed
 * Slack id is one person.
 */
export function listedApproverCount(env: SafetyOf, users: Record<string, string>): number | null {
  if (env.approvers.some((id) => id.startsWith("S")) || env.github_approvers.some((e) => e.includes("/"))) {
    return null;
  }
  const people = new Set(env.approvers);
  const slackOf = new Map(Object.entries(users).map(([login, id]) => [login.toLowerCase(), id]));
  for (const login of env.github_approvers) {
    people.add(slackOf.get(login.toLowerCase()) ?? `github:${login.toLowerCase()}`);
  }
  return people.size;
}

/** The rules that span the deploy-safety fields of one environment: a quorum that can be reached. */
export function deploySafetyProblems(env: SafetyOf, users: Record<string, string>): SafetyProblem[] {
  const problems: SafetyProblem[] = [];
  const asksApproval =
    env.approval === "required" || env.rollback_approval === "required" || env.when_closed === "approval";
  if (env.approvals_required > 1 && !asksApproval) {
    problems.push({
      field: "approvals_required",
      message: `${env.approvals_required} approvals asked, but nothing here needs approval: set approval: required (or rollback_approval: required, or when_closed: approval), or remove approvals_required`,
    });
  }
  const listed = listedApproverCount(env, users);
  if (asksApproval && listed !== null && listed > 0 && listed < env.approvals_required) {
    problems.push({
      field: "approvals_required",
      message: `${env.approvals_required} distinct approvers needed, but approvers and github_approvers name only ${listed} ${listed === 1 ? "person" : "people"} (a login mapped by users: to a listed Slack id is one person): list more approvers or lower approvals_required`,
    });
  }
  if (
    env.when_closed === "approval" &&
    env.approval !== "required" &&
    env.approvers.length === 0 &&
    env.github_approvers.length === 0
  ) {
    problems.push({
      field: "when_closed",
      message:
        "when_closed: approval needs at least one approver (in approvers or github_approvers) to approve a deploy outside the windows",
    });
  }
  return problems;
}
