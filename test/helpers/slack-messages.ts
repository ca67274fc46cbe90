import type { KnownBlock } from "@slack/web-api";
import { expect } from "vitest";
import { type SlackMessage } from "../../src/slack/block-kit.js";

/** Reading Slack messages in tests: their texts, and Slack's limits on them. */

export const SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
export const CURRENT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0deadbeef";
export const EXPIRES = "2026-01-01T00:00:00.000Z";
export const EXPIRES_UNIX = 1_767_225_600;

/** Every piece of text a message carries, with the limit Slack applies to it. */
function texts(blocks: KnownBlock[]): { kind: string; text: string }[] {
  const found: { kind: string; text: string }[] = [];
  for (const block of blocks) {
    if (block.type === "header") found.push({ kind: "header", text: block.text.text });
    if (block.type === "section") {
      if (block.text) found.push({ kind: "section", text: block.text.text });
      for (const field of block.fields ?? []) found.push({ kind: "field", text: field.text });
    }
    if (block.type === "context") {
      for (const element of block.elements)
        if ("text" in element) found.push({ kind: "context", text: element.text });
    }
  }
  return found;
}

export function expectWithinSlackLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  const limits: Record<string, number> = { header: 150, section: 3000, field: 2000, context: 3000 };
  for (const { kind, text } of texts(message.blocks)) {
    expect(text.length, `${kind} text`).toBeLessThanOrEqual(limits[kind] ?? 0);
    expect(text.length, `${kind} text`).toBeGreaterThan(0);
  }
  for (const block of message.blocks) {
    if (block.type === "section") expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
    if (block.type === "actions") {
      for (const element of block.elements) {
        if (element.type === "button") expect(element.value?.length ?? 0).toBeLessThanOrEqual(2000);
      }
    }
  }
}

export function allText(message: SlackMessage): string {
  return [message.text, ...texts(message.blocks).map((t) => t.text)].join("\n");
}
