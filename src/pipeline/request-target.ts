import { z } from "zod";
import type { LoopDeps } from "../agent/loop-deps.js";

/** Which repository a request in words from Slack is about. */

export interface RequestTarget {
  repo: string;
  installationId: number;
}

/** Which repository a request is about: named as owner/repo, or the one that uses this channel. */
export async function resolveRepository(
  deps: LoopDeps,
  text: string,
  channel: string,
): Promise<RequestTarget | null> {
  for (const match of text.matchAll(/\b([\w.-]+\/[\w.-]+)\b/g)) {
    const installation = await deps.store.getRef(`repo:${match[1]!.toLowerCase()}`);
    if (installation) return { repo: match[1]!, installationId: Number(installation) };
    // Never merged into while deploybot watched: the app may still be installed there.
    const found = deps.installationOf ? await deps.installationOf(match[1]!) : null;
    if (found !== null) return { repo: match[1]!, installationId: found };
  }
  const byChannel = await deps.store.getRef(`channel:${channel}`);
  if (!byChannel) return null;
  const parsed = z
    .object({ repo: z.string(), installationId: z.number().int() })
    .safeParse(JSON.parse(byChannel));
  return parsed.success ? parsed.data : null;
}
