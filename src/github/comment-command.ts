import { clip } from "../thread/text.js";
import { isLockWord, LOCK_USAGE, parseLockCommand, type LockCommand } from "./lock-command.js";
/**
 * `/deploybot` commands in pull request comments, parsed from the comment's text (a pure function).
 * A command is a line that starts with `/deploybot`; the first such line counts, the rest of the
 * comment is ignored. Anything after `/deploybot` that is not one of the fixed commands is a request
 * in plain words, for the decider.
 */

export type PrCommand =
  | { kind: "status" }
  | { kind: "help" }
  | { kind: "approve" }
  | { kind: "reject"; reason: string }
  | { kind: "pause" | "cancel"; reason: string | null }
  | { kind: "resume" }
  /** `breakGlass`: the reason given with `--break-glass "<reason>"`. */
  | { kind: "rollback"; component: string; environment: string; breakGlass?: string }
  | { kind: "deploy"; component: string; environment: string; breakGlass?: string }
  | { kind: "words"; text: string }
  /** A manual lock or unlock of an environment (or one component in it): see lock-command.ts. */
  | LockCommand
  /** A fixed command with missing or extra arguments: answered with how to use it. */
  | { kind: "invalid"; problem: string };

export const COMMAND_PREFIX = "/deploybot";

export const COMMAND_USAGE = [
  "`/deploybot status`",
  "`/deploybot approve`",
  "`/deploybot reject <reason>`",
  "`/deploybot pause`, `resume` or `cancel`",
  "`/deploybot rollback <component> <environment>`",
  "`/deploybot deploy <component> to <environment>`",
  'either with `--break-glass "<reason>"` (people listed in the environment\'s `break_glass`: runs without approval)',
  LOCK_USAGE,
  "or plain words after `/deploybot`, e.g. `/deploybot roll back the frontend in production`",
].join(", ");

const NAME = /^[a-z][a-z0-9_-]{0,39}$/;

/** The command in a comment, or null when no line starts with `/deploybot`. */
export function parsePrCommand(body: string): PrCommand | null {
  const line = body
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .find(
      (l) =>
        l === COMMAND_PREFIX || l.startsWith(`${COMMAND_PREFIX} `) || l.startsWith(`${COMMAND_PREFIX}\t`),
    );
  if (line === undefined) return null;
  const full = clip(line.slice(COMMAND_PREFIX.length).trim(), 2_000);
  if (full === "") return { kind: "help" };
  const { rest, breakGlass } = splitBreakGlass(full);
  if (breakGlass !== null) return withBreakGlass(parsePrCommand(`${COMMAND_PREFIX} ${rest}`), breakGlass);
  const [word = "", ...args] = rest.split(/\s+/);
  const tail = rest.slice(word.length).trim();
  switch (word.toLowerCase()) {
    case "status":
    case "help":
    case "approve":
    case "resume":
      if (args.length > 0) return { kind: "invalid", problem: `\`${word}\` takes nothing after it` };
      return { kind: word.toLowerCase() as "status" | "help" | "approve" | "resume" };
    case "reject":
      if (tail === "") return { kind: "invalid", problem: "say why: `/deploybot reject <reason>`" };
      return { kind: "reject", reason: tail };
    case "pause":
    case "cancel":
      return { kind: word.toLowerCase() as "pause" | "cancel", reason: tail === "" ? null : tail };
    case "rollback": {
      const [component, environment, ...extra] = args.map((a) => a.toLowerCase());
      if (!component || !environment || extra.length > 0 || !NAME.test(component) || !NAME.test(environment))
        return { kind: "invalid", problem: "use `/deploybot rollback <component> <environment>`" };
      return { kind: "rollback", component, environment };
    }
    case "deploy": {
      const match = /^([a-z][a-z0-9_-]{0,39})\s+to\s+([a-z][a-z0-9_-]{0,39})$/i.exec(tail);
      // "deploy the frontend to staging, then production" is a request in words, for the decider.
      if (!match) return { kind: "words", text: rest };
      return { kind: "deploy", component: match[1]!.toLowerCase(), environment: match[2]!.toLowerCase() };
    }
    default:
      if (isLockWord(word)) return parseLockCommand(word, tail);
      return { kind: "words", text: rest };
  }
}

export const BREAK_GLASS_USAGE =
  '`/deploybot deploy <component> to <environment> --break-glass "<reason>"` or `/deploybot rollback <component> <environment> --break-glass "<reason>"`';

/**
 * Splits `--break-glass "<reason>"` off the end of a command's text: `breakGlass` is the reason
 * (empty when none was given), or null when the flag is absent. Quotes around the reason are
 * optional. Shared by PR comments and Slack's `/deploybot`.
 */
export function splitBreakGlass(text: string): { rest: string; breakGlass: string | null } {
  const flag = /(?:^|\s)--break-glass(?:\s+([\s\S]*))?$/.exec(text);
  if (!flag) return { rest: text, breakGlass: null };
  const raw = (flag[1] ?? "").trim();
  const quoted = /^(["“'])([\s\S]*)(["”'])$/.exec(raw);
  return { rest: text.slice(0, flag.index).trim(), breakGlass: (quoted ? quoted[2]! : raw).trim() };
}

function withBreakGlass(command: PrCommand | null, reason: string): PrCommand {
  if (command?.kind !== "deploy" && command?.kind !== "rollback") {
    return {
      kind: "invalid",
      problem: `\`--break-glass\` goes with a deploy or a rollback: ${BREAK_GLASS_USAGE}`,
    };
  }
  if (reason === "") return { kind: "invalid", problem: `break-glass needs a reason: ${BREAK_GLASS_USAGE}` };
  return { ...command, breakGlass: reason };
}

/** The words a fixed deploy or rollback command stands for, as a request to the decider. */
export function requestText(command: Extract<PrCommand, { kind: "rollback" | "deploy" | "words" }>): string {
  switch (command.kind) {
    case "rollback":
      return `roll back ${command.component} in ${command.environment}`;
    case "deploy":
      return `deploy ${command.component} to ${command.environment}`;
    case "words":
      return command.text;
  }
}
