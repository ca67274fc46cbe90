import { oneLine, truncate } from "../thread/text.js";

/** Text for GitHub-flavoured markdown (PR comments, the REST API's thread summary). */

/** Outside text made inert in markdown: one line, cut, no formatting, links, HTML or mentions. */
export function mdText(text: string, max: number): string {
  return truncate(
    oneLine(text)
      .replace(/[`*_~[\]|]/g, (c) => `\\${c}`)
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/@/g, "@\u200b"),
    max,
  );
}

export const SAFE_URL = /^https:\/\/[^\s()<>`]+$/;
