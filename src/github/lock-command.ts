/**
 * The manual lock commands, the same words on every channel (a PR comment, Slack's `/deploybot`):
 * `lock <environment> [component] "<reason>"` and `unlock <environment> [component]`. Slack may
 * name the repository first (`lock acme/shop production "..."`). A pure function of the words
 * after `/deploybot`.
 */

import { clip } from "../thread/text.js";

export type LockCommand =
  | {
      kind: "lock";
      repo: string | null;
      environment: string;
      component: string | null;
      reason: string;
    }
  | { kind: "unlock"; repo: string | null; environment: string; component: string | null };

export type ParsedLockCommand = LockCommand | { kind: "invalid"; problem: string };

export const LOCK_USAGE =
  '`/deploybot lock <environment> [component] "<reason>"`, `/deploybot unlock <environment> [component]`';

const NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const REPO = /^[\w.-]+\/[\w.-]+$/;
/** The reason, in straight or curly double quotes, at the end. */
const QUOTED = /\s*["“”]([^"“”]*)["“”]\s*$/;

/** Whether `word` (the first word after `/deploybot`) is a lock command. */
export function isLockWord(word: string): boolean {
  return ["lock", "unlock"].includes(word.toLowerCase());
}

/** `word` is `lock` or `unlock`; `tail` the words after it. */
export function parseLockCommand(word: string, tail: string): ParsedLockCommand {
  const kind = word.toLowerCase() === "unlock" ? "unlock" : "lock";
  const quoted = QUOTED.exec(tail);
  const reason = quoted ? quoted[1]!.trim() : null;
  const names = (quoted ? tail.slice(0, quoted.index) : tail).split(/\s+/).filter(Boolean);
  const repo = names[0] && REPO.test(names[0]) ? names.shift()! : null;
  const [environment, component, ...extra] = names.map((n) => n.toLowerCase());
  const usage = kind === "lock" ? LOCK_USAGE.split(", ")[0] : LOCK_USAGE.split(", ")[1];
  if (!environment || extra.length > 0 || [environment, component].some((n) => n && !NAME.test(n))) {
    const hint = kind === "lock" && !quoted && names.length > 2 ? " (put the reason in double quotes)" : "";
    return { kind: "invalid", problem: `use ${usage}${hint}` };
  }
  if (kind === "unlock") {
    if (quoted) return { kind: "invalid", problem: `\`unlock\` takes no reason: use ${usage}` };
    return { kind, repo, environment, component: component ?? null };
  }
  if (!reason) return { kind: "invalid", problem: `say why, in double quotes: ${usage}` };
  return { kind, repo, environment, component: component ?? null, reason: clip(reason, 500) };
}

/** "production", or "backend in production". */
export function placeText(environment: string, component: string | null): string {
  return component === null ? environment : `${component} in ${environment}`;
}
