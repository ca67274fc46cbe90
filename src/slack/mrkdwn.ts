import { clip } from "../thread/text.js";

/**
 * Slack mrkdwn text: escaping (`&`, `<`, `>`), so a PR title cannot ping `<!channel>`, forge a link or
 * mention a user, cutting to a bound without leaving half an escape or link, links and dates.
 */

/** Escapes the three characters Slack treats as control characters in mrkdwn. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Cuts mrkdwn text to at most `max` characters. A cut text ends with `…`, or with `… <url|more>`
 * when a link is given. Never leaves half an escape (`&am`), half a link (`<https://…`) or half a
 * surrogate pair behind.
 */
export function cut(text: string, max: number, linkForMore?: string): string {
  if (text.length <= max) return text;
  let suffix = linkForMore ? `… ${link(linkForMore, "more")}` : "…";
  if (suffix.length > max) suffix = "…";
  if (max < suffix.length) return "";
  let head = clip(text, max - suffix.length);
  head = head.replace(/&[a-z#0-9]{0,5}$/i, "");
  const open = head.lastIndexOf("<");
  if (open > head.lastIndexOf(">")) head = head.slice(0, open);
  return `${head}${suffix}`;
}

/** Escapes and cuts untrusted text in one step. */
export function untrusted(text: string, max: number, linkForMore?: string): string {
  return cut(escapeMrkdwn(text), max, linkForMore);
}

/** Makes a URL safe inside `<url|label>`: no `<`, `>` or `|`, and `&` escaped as Slack asks. */
function safeUrl(url: string): string {
  return url.replace(/&/g, "&amp;").replace(/</g, "%3C").replace(/>/g, "%3E").replace(/\|/g, "%7C");
}

/** A mrkdwn link; `label` must already be escaped. */
export function link(url: string, label: string): string {
  return `<${safeUrl(url)}|${label}>`;
}

export function commitUrl(serverUrl: string, repo: string, sha: string): string {
  return `${serverUrl.replace(/\/+$/, "")}/${repo}/commit/${sha}`;
}

export function compareUrl(serverUrl: string, repo: string, base: string, head: string): string {
  return `${serverUrl.replace(/\/+$/, "")}/${repo}/compare/${base}...${head}`;
}

export function repoUrl(serverUrl: string, repo: string): string {
  return `${serverUrl.replace(/\/+$/, "")}/${repo}`;
}

/**
 * A date Slack renders in the reader's time zone: `<!date^unix^{date_short_pretty} {time}|iso>`.
 * An unparseable date is shown as (escaped) text.
 */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${escapeMrkdwn(iso)}>`;
}

/** `<@U…>` for a Slack user id; anything that is not an id is shown as escaped text. */
export function userMention(slackUser: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(slackUser) ? `<@${slackUser}>` : escapeMrkdwn(slackUser);
}

/** A mrkdwn block quote of already-escaped text. */
export function quote(text: string): string {
  return text
    .split("\n")
    .map((line) => `>${line}`)
    .join("\n");
}

export function firstLine(message: string): string {
  return (message.split("\n")[0] ?? "").trim();
}

/**
 * Joins lines while they fit in `max` characters, then says how many were left out ("and N more"),
 * counting `alsoHidden` lines that were never offered.
 */
export function linesWithin(lines: string[], max: number, alsoHidden: number): string {
  const more = (hidden: number) => `and ${hidden} more`;
  const kept: string[] = [];
  let used = 0;
  for (const [index, line] of lines.entries()) {
    const hiddenAfter = lines.length - index - 1 + alsoHidden;
    const reserve = hiddenAfter > 0 ? more(hiddenAfter).length + 1 : 0;
    if (used + line.length + 1 + reserve > max) {
      kept.push(more(lines.length - index + alsoHidden));
      return kept.join("\n");
    }
    kept.push(line);
    used += line.length + 1;
  }
  if (alsoHidden > 0) kept.push(more(alsoHidden));
  return kept.join("\n");
}
