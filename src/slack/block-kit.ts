import type { ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from "@slack/web-api";
import { truncate } from "../thread/text.js";
import { cut } from "./mrkdwn.js";

/**
 * Block Kit primitives: each block cuts what it holds to Slack's limits, so a 10,000-character
 * title still yields a message Slack accepts.
 */

/** Slack's Block Kit limits. */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  headerText: 150,
  buttonValue: 2000,
  contextElements: 10,
  viewTitle: 24,
  privateMetadata: 3000,
} as const;

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

// ---------------------------------------------------------------------------------------------
// Block primitives (each one enforces its own limit)

export function header(text: string): HeaderBlock {
  const plain = truncate(text, SLACK_LIMITS.headerText, "…");
  return { type: "header", text: { type: "plain_text", text: plain, emoji: true } };
}

export function section(text: string, linkForMore?: string): SectionBlock {
  return {
    type: "section",
    text: { type: "mrkdwn", text: cut(text, SLACK_LIMITS.sectionText, linkForMore) },
  };
}

export function fieldsSection(fields: string[]): SectionBlock {
  return {
    type: "section",
    fields: fields
      .slice(0, SLACK_LIMITS.fieldsPerSection)
      .map((text) => ({ type: "mrkdwn", text: cut(text, SLACK_LIMITS.fieldText) })),
  };
}

export function context(...texts: string[]): ContextBlock {
  return {
    type: "context",
    elements: texts
      .filter((text) => text.length > 0)
      .slice(0, SLACK_LIMITS.contextElements)
      .map((text) => ({ type: "mrkdwn", text: cut(text, SLACK_LIMITS.sectionText) })),
  };
}

export function capBlocks(blocks: KnownBlock[]): KnownBlock[] {
  return blocks.slice(0, SLACK_LIMITS.blocksPerMessage);
}
