import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAILING_PULL, FIRST_PULL } from "../../src/demo/sample.js";
import { httpRequest } from "../helpers/http.js";

/**
 * `npm run demo` as a new user runs it: a real process, its printed sign-in address, the dashboard,
 * an approval clicked in the simulated Slack, then the failing merge and its rollback.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
let demo: ChildProcessWithoutNullStreams;
let output = "";
let cookie = "";

/** Polls `check` until it returns a value (the demo's workflows take a moment); fails after `ms`. */
async function eventually<T>(what: string, check: () => Promise<T | null>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`the demo never got to: ${what}\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const page = async (url: string) => (await httpRequest(url, { headers: { cookie } })).body;

beforeAll(async () => {
  demo = spawn(process.execPath, ["--import", "tsx", "src/demo/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, DEPLOYBOT_DEMO_WORKFLOW_MS: "300", LOG_LEVEL: "warn", OPENAI_API_KEY: "" },
  });
  demo.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  demo.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
}, 60_000);

afterAll(() => {
  demo?.kill("SIGTERM");
});

describe("npm run demo", () => {
  let base = "";
  let slack = "";

  it("prints one address that signs the dashboard in", async () => {
    const signIn = await eventually("the sign-in address", async () =>
      /(http:\/\/127\.0\.0\.1:\d+)\/threads\/sign-in\?token=\S+/.exec(output),
    );
    base = signIn[1]!;
    slack = /simulated Slack channel: (\S+)/.exec(output)![1]!;
    const response = await httpRequest(signIn[0]);
    cookie = String(response.headers["set-cookie"]).split(";")[0]!;

    expect(response.status).toBe(303);
    expect(await page(`${base}/threads/overview`)).toContain("Signed in as <strong>demo</strong>");
  }, 60_000);

  it("deploys the sample merge to staging and waits for approval before production", async () => {
    const overview = await eventually("waiting for approval", async () => {
      const html = await page(`${base}/threads/overview`);
      return html.includes("waiting for approval:") ? html : null;
    });
    expect(overview).toContain("demo-org/shop");
    const thread = /href="(\/threads\/th_[0-9a-f]+)"/.exec(overview)![1]!;
    expect(await page(`${base}${thread}`)).toContain(`href="${slack}archives/C0DEPLOYS/p`);
    expect(overview.match(/since <time/g)).toHaveLength(2);
  }, 60_000);

  it("deploys both components to production once each is approved in the simulated Slack", async () => {
    const approved = new Set<string>();
    const done = await eventually("the first thread done", async () => {
      const html = await page(`${base}/threads?status=done`);
      if (html.includes(FIRST_PULL.title)) return html;
      // Production asks once per component: click each approval card as it appears.
      for (const [, ts] of (await page(slack)).matchAll(/name="ts" value="([^"]+)"/g)) {
        if (approved.has(ts!)) continue;
        approved.add(ts!);
        await httpRequest(`${slack}click`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ ts: ts!, action_id: "deploybot.approve" }).toString(),
        });
      }
      return null;
    });
    const overview = await page(`${base}/threads/overview`);
    expect(done).toContain('data-status="done"');
    expect(approved.size).toBe(2);
    expect(overview.match(/since <time/g)).toHaveLength(4);
  }, 60_000);

  it("rolls the backend back in staging after the failing merge", async () => {
    demo.stdin.write("\n");
    const failing = await eventually("the failing thread", async () => {
      const html = await page(`${base}/threads`);
      const match = new RegExp(`href="(/threads/th_[0-9a-f]+)">[^<]*${FAILING_PULL.title}`).exec(html);
      return match ? match[1]! : null;
    });
    const thread = await eventually("the rollback", async () => {
      const html = await page(`${base}${failing}`);
      return /Deploy failed[\s\S]*roll back[\s\S]*Deploy succeeded/.test(html) ? html : null;
    });
    expect(thread).toContain("already exists");
  }, 60_000);
});
