import { Agent, request } from "node:http";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, healthRoute } from "../../src/app.js";
import { slackRoutes } from "../../src/http/slack-routes.js";
import type { StartedServer } from "../../src/http/server.js";
import { silentLog } from "../../src/log.js";
import { signSlackRequest } from "../../src/slack/verify.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { deploymentStatus, mergedPullRequest } from "../helpers/fixtures.js";
import { clickBody, rejectSubmissionBody } from "../helpers/app-server.js";
import { startTestServer, WEBHOOK_SECRET } from "../helpers/probot.js";

/**
 * Thousands of mutated webhook and Slack requests, none of them correctly signed: every one gets a
 * 4xx, the server stays up, and nothing reaches the inbox.
 */

const SLACK_SECRET = "fuzz-slack-signing-secret-0123456789";
const ROUNDS = 2_500;

/** A small seeded generator, so a failure can be replayed. */
function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function mutate(body: string, random: () => number): string {
  const bytes = Buffer.from(body);
  switch (Math.floor(random() * 6)) {
    case 0: // flip a few bytes
      for (let i = 0; i < 1 + random() * 8; i++)
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      return bytes.toString("latin1");
    case 1: // truncate
      return body.slice(0, Math.floor(random() * body.length));
    case 2: // splice in junk
      return `${body.slice(0, Math.floor(random() * body.length))}${'\u0000{}[]"\\%&='.repeat(1 + Math.floor(random() * 5))}${body.slice(Math.floor(random() * body.length))}`;
    case 3: // a different, valid-looking JSON document
      return JSON.stringify({ action: "closed", number: random(), payload: body.slice(0, 50) });
    case 4: // nothing
      return "";
    default: // duplicate a slice
      return body + body.slice(Math.floor(random() * body.length));
  }
}

let server: StartedServer;
let store: SqliteStore;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const NOW = new Date("2026-11-24T12:00:00Z");

beforeAll(async () => {
  store = new SqliteStore(":memory:");
  await store.migrate();
  server = await startTestServer(
    createApp({
      store,
      clock: () => NOW,
      routes: () => [
        healthRoute(store),
        slackRoutes({ store, clock: () => NOW, signingSecret: SLACK_SECRET, slack: null, log: silentLog }),
      ],
    }),
  );
});

afterAll(async () => {
  agent.destroy();
  await server.close();
  await store.close();
});

function send(path: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${server.url}${path}`, { method: "POST", headers, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    // A server that closes early on a refused body is fine: that is an answer too.
    req.on("error", () => resolve(-1));
    req.end(body);
  });
}

describe("mutated requests", () => {
  it("all get a 4xx (never a 5xx), the server stays up, and nothing is stored", async () => {
    const random = prng(20261124);
    const webhookBodies = [
      JSON.stringify(mergedPullRequest()),
      JSON.stringify(deploymentStatus({ deploymentId: 1, state: "success" })),
    ];
    const slackBodies = [
      clickBody("deploybot.approve", "ap_1", "U01APPROVER"),
      rejectSubmissionBody("ap_1", "U01APPROVER", "no"),
      "command=%2Fdeploybot&text=deploy+the+frontend+to+staging&user_id=U1&channel_id=C1&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&trigger_id=1.2&team_id=T1",
      JSON.stringify({
        type: "event_callback",
        event_id: "Ev1",
        team_id: "T1",
        event: { type: "app_mention", user: "U1", text: "hi", channel: "C1", ts: "1.2" },
      }),
    ];
    const statuses = new Map<number, number>();
    const batch: Promise<number>[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const toSlack = random() < 0.5;
      if (!toSlack) {
        const original = webhookBodies[Math.floor(random() * webhookBodies.length)]!;
        const body = mutate(original, random);
        // The signature of the original (or of nothing): a mutated body never matches it.
        const signature = random() < 0.8 ? await sign(WEBHOOK_SECRET, original) : "sha256=00";
        const headers: Record<string, string> = {
          "content-type": random() < 0.9 ? "application/json" : "text/plain",
          "x-github-event": random() < 0.9 ? "pull_request" : "bogus",
          "x-github-delivery": `fuzz-${round}`,
          "x-hub-signature-256": signature,
        };
        if (body === original) continue;
        batch.push(send("/api/github/webhooks", headers, body));
      } else {
        const original = slackBodies[Math.floor(random() * slackBodies.length)]!;
        const body = mutate(original, random);
        if (body === original) continue;
        const stale = random() < 0.2;
        const timestamp = Math.floor(NOW.getTime() / 1000) - (stale ? 301 : 0);
        const path = ["/slack/actions", "/slack/commands", "/slack/events"][Math.floor(random() * 3)]!;
        batch.push(
          send(
            path,
            {
              "content-type":
                path === "/slack/events" ? "application/json" : "application/x-www-form-urlencoded",
              "x-slack-request-timestamp": String(timestamp),
              "x-slack-signature": signSlackRequest(SLACK_SECRET, timestamp, original),
            },
            body,
          ),
        );
      }
      if (batch.length >= 16) {
        for (const status of await Promise.all(batch.splice(0)))
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }
    for (const status of await Promise.all(batch)) statuses.set(status, (statuses.get(status) ?? 0) + 1);

    const answered = [...statuses.entries()];
    expect(answered.filter(([status]) => status >= 500 || status === -1)).toEqual([]);
    expect(answered.every(([status]) => status >= 400 && status < 500)).toBe(true);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(2_000);
    expect(await store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 0 });
    const health = await new Promise<number>((resolve) =>
      request(`${server.url}/healthz`, { agent }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end(),
    );
    expect(health).toBe(200);
  }, 120_000);
});
