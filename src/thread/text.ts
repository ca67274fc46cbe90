/** Small text helpers shared by every rendering of a thread. */

const CUT_MARK = "…[cut]";

/** Cuts `text` to at most `max` characters, marking the cut; never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= CUT_MARK.length) return text.slice(0, Math.max(0, max));
  let end = max - CUT_MARK.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + CUT_MARK;
}

/** One line: runs of whitespace (including newlines) become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export const short = (sha: string) => sha.slice(0, 7);

/** One line of a human's words, for a refusal: JSON-quoted and bounded. */
export function quotedLine(text: string, max = 200): string {
  return JSON.stringify(truncate(oneLine(text), max));
}
