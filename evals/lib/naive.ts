import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Thread, ThreadEvent } from "../../src/thread/events.js";

/**
 * The baseline the context is measured against: a naive chat history of the same thread, as an
 * agent that appends every raw payload and tool result would hold it. Where an event came from a
 * webhook or a Slack request, its message is a real example payload of that kind (GitHub's from
 * @octokit/webhooks-examples, Slack's from the documented payloads in test/fixtures/slack) with the
 * thread's values put in; every other event is its tool result as JSON.
 */

type Json = Record<string, unknown>;

const require = createRequire(import.meta.url);
const examples = JSON.parse(
  readFileSync(require.resolve("@octokit/webhooks-examples/api.github.com/index.json"), "utf8"),
) as { name: string; examples: Json[] }[];
const SLACK = fileURLToPath(new URL("../../test/fixtures/slack/", import.meta.url));

function example(name: string, action: string): Json {
  const found = examples.find((g) => g.name === name)?.examples.find((e) => e.action === action);
  if (!found) throw new Error(`no ${name}.${action} example in @octokit/webhooks-examples`);
  return structuredClone(found);
}

function slack(file: string): Json {
  return JSON.parse(readFileSync(`${SLACK}${file}`, "utf8")) as Json;
}

function rawPayload(event: ThreadEvent): Json {
  switch (event.type) {
    case "pr_merged": {
      const payload = example("pull_request", "closed");
      const pr = payload.pull_request as Json;
      Object.assign(pr, {
        number: event.data.number,
        title: event.data.title,
        body: event.data.body,
        merged: true,
        merge_commit_sha: event.data.merge_sha,
      });
      return payload;
    }
    case "deploy_finished": {
      const payload = example("deployment_status", "created");
      (payload.deployment_status as Json).state = event.data.outcome;
      (payload.deployment_status as Json).description = event.data.summary;
      return payload;
    }
    case "chat_request": {
      const payload = slack("app-mention.json");
      (payload.event as Json).text = event.data.text;
      return payload;
    }
    case "approval_granted":
      return slack("block-actions.json");
    case "approval_rejected":
      return slack("view-submission.json");
    case "human_answered": {
      const payload = slack("message-replied.json");
      (payload.event as Json).text = event.data.answer;
      return payload;
    }
    default:
      return { type: event.type, ...event.data };
  }
}

/** The naive history as one text: the system prompt, then one message per event. */
export function naiveHistory(thread: Thread, systemPrompt: string): string {
  const messages = [`system: ${systemPrompt}`];
  for (const event of thread.events) {
    const role = event.type === "decision" ? "assistant" : event.type === "pr_merged" ? "user" : "tool";
    messages.push(`${role}: ${JSON.stringify(rawPayload(event))}`);
  }
  messages.push("user: What is the next step? Answer with one JSON object.");
  return messages.join("\n");
}
