import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Page } from "playwright-core";
import { FAILING_PULL, FIRST_PULL } from "../src/demo/sample.js";
import { startDemo } from "../src/demo/run-demo.js";

/**
 * Regenerates the dashboard screenshots in docs/ from `npm run demo`: a thread waiting for its
 * production approval, then (both approvals given in the simulated Slack, the failing merge rolled
 * back) the overview and the rolled-back thread. Needs Debian's chromium at /usr/bin/chromium.
 * Run with `npx tsx scripts/dashboard-screenshots.ts`.
 */

const DOCS = resolve(import.meta.dirname, "../docs");

async function until<T>(what: string, check: () => Promise<T | null>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`the demo never got to: ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function shoot(page: Page, url: string, file: string): Promise<void> {
  await page.goto(url);
  await page.screenshot({ path: join(DOCS, file), fullPage: true });
  process.stdout.write(`wrote docs/${file}\n`);
}

const demo = await startDemo({ workflowMs: 300, write: () => {} });
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "deploybot-shots-")), {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1200, height: 800 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
const page = await context.newPage();
await page.goto(demo.signInUrl);

const threadOf = async (title: string) => {
  const threads = await demo.store.listThreads({ limit: 10 });
  return threads.find((t) => t.title.includes(title)) ?? null;
};
const first = await until("the approval", async () => {
  const t = await threadOf(FIRST_PULL.title);
  return t?.status === "waiting_for_approval" ? t : null;
});
await shoot(page, `${demo.url}/threads/${first.id}`, "dashboard-thread.png");

const approved = new Set<string>();
await until("production deployed", async () => {
  if ((await threadOf(FIRST_PULL.title))?.status === "done") return true;
  for (const message of demo.slack.messages) {
    if (approved.has(message.ts) || !JSON.stringify(message.blocks ?? "").includes("deploybot.approve"))
      continue;
    approved.add(message.ts);
    await fetch(`${demo.slackUrl}click`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ts: message.ts, action_id: "deploybot.approve" }).toString(),
    });
  }
  return null;
});
await demo.mergeFailing();
const failing = await until("the rollback", async () => {
  const t = await threadOf(FAILING_PULL.title);
  return t && ["done", "failed"].includes(t.status) ? t : null;
});
await shoot(page, `${demo.url}/threads/overview`, "dashboard-overview.png");
await shoot(page, `${demo.url}/threads/${failing.id}`, "dashboard-rollback.png");
await context.close();
process.exit(0);
