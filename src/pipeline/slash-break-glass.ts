import type { LoopDeps } from "../agent/loop-deps.js";
import {
  BREAK_GLASS_USAGE,
  COMMAND_PREFIX,
  parsePrCommand,
  splitBreakGlass,
} from "../github/comment-command.js";
import { resolveRepository, type RequestTarget } from "./request-target.js";
import { checkRequest, type CheckedRequest, type DeclaredBreakGlass } from "./requests.js";

/**
 * Break-glass from Slack's `/deploybot`: the declaration read from the command's words, then judged
 * against the repository's config before anything shows in the channel.
 */

/**
 * `/deploybot deploy <component> to <environment> --break-glass "<reason>"` (or a rollback), with the
 * grammar of PR comments (an `owner/repo` may be named too): the declaration, or why it is refused.
 * Null without `--break-glass`.
 */
export function slashBreakGlass(request: {
  text: string;
  user: string;
}): { text: string; breakGlass: DeclaredBreakGlass } | { problem: string } | null {
  const { rest, breakGlass } = splitBreakGlass(request.text.trim());
  if (breakGlass === null) return null;
  const words = rest.replace(/(^|\s)[\w.-]+\/[\w.-]+(?=\s|$)/g, " ").trim();
  const command = parsePrCommand(`${COMMAND_PREFIX} ${words} --break-glass "${breakGlass}"`);
  if (command?.kind === "invalid") return { problem: command.problem };
  if ((command?.kind !== "deploy" && command?.kind !== "rollback") || !command.breakGlass) {
    return { problem: `break-glass needs a reason: ${BREAK_GLASS_USAGE}` };
  }
  const environment = command.environment;
  return {
    text: rest,
    breakGlass: { by: request.user, channel: "slack", reason: command.breakGlass, environment },
  };
}

/** A slash command's break-glass checked against its repository's config; null when none is known. */
export async function prepareBreakGlass(
  deps: LoopDeps,
  channel: string,
  declared: { text: string; breakGlass: DeclaredBreakGlass },
): Promise<{ target: RequestTarget; checked: CheckedRequest } | null> {
  const target = await resolveRepository(deps, declared.text, channel);
  if (!target) return null;
  return { target, checked: await checkRequest(deps, { ...target, breakGlass: declared.breakGlass }) };
}
