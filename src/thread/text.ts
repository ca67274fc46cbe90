/**
 * Small text helpers shared by everything that shows text: cutting to a bound, one line, short
 * SHAs and the `owner/name` of a repository.
 */

const CUT_MARK = "…[cut]";

/** The first `max` characters of `text` (or all of it), never ending on half a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

/** Cuts `text` to at most `max` characters, ending a cut text with `mark`. */
export function truncate(text: string, max: number, mark = CUT_MARK): string {
  if (text.length <= max) return text;
  if (max <= mark.length) return clip(text, max);
  return clip(text, max - mark.length) + mark;
}

/** One line: runs of whitespace (including newlines) become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** A commit as people read it: its first seven hex digits. */
export const short = (sha: string) => sha.slice(0, 7);

/** One line of a human's words, for a refusal: JSON-quoted and bounded. */
export function quotedLine(text: string, max = 200): string {
  return JSON.stringify(truncate(oneLine(text), max));
}

export type RepoRef = { owner: string; repo: string };

/** `owner/name` as octokit's parameters. */
export function repoRefOf(fullName: string): RepoRef {
  const [owner = "", repo = ""] = fullName.split("/");
  return { owner, repo };
}
