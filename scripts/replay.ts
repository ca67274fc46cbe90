/**
 * `npm run replay -- <thread id> [<thread id> ...]` or `npm run replay -- --since 7d`
 *
 * Decides every decision point of stored threads again (DATABASE_URL: SQLite or PostgreSQL) with
 * the current prompt and decider (DEPLOYBOT_DECIDER, OPENAI_*), and shows where the new answer
 * differs from the recorded one and how the current policy would judge it. Nothing is written.
 */
import { parseArgs } from "node:util";
import { createOpenAiDecider, type Decider } from "../src/agent/decide.js";
import { loadPrompts } from "../src/agent/prompts.js";
import { parseSince, replayThread } from "../src/agent/replay.js";
import { describeStep } from "../src/thread/next-step.js";
import { createRulesDecider } from "../src/agent/rules-decider.js";
import { loadProcessEnv, parseSettings } from "../src/config/env.js";
import { openStore } from "../src/store/open-store.js";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { since: { type: "string" }, limit: { type: "string", default: "200" } },
  });
  if (positionals.length === 0 && !values.since) {
    console.error("usage: npm run replay -- <thread id> [...]   or   npm run replay -- --since 7d");
    return 2;
  }
  const settings = parseSettings(loadProcessEnv());
  const prompts = loadPrompts();
  let decider: Decider;
  if (settings.decider === "openai") {
    if (!settings.openai.apiKey) throw new Error("DEPLOYBOT_DECIDER=openai needs OPENAI_API_KEY");
    decider = createOpenAiDecider({
      apiKey: settings.openai.apiKey,
      model: settings.openai.model,
      prompts,
      ...(settings.openai.baseUrl ? { baseURL: settings.openai.baseUrl } : {}),
    });
  } else decider = createRulesDecider();

  const store = await openStore(settings.databaseUrl);
  try {
    let ids = positionals;
    if (values.since) {
      const after = Date.now() - parseSince(values.since);
      const threads = await store.listThreads({ limit: Number(values.limit) });
      ids = threads.filter((t) => Date.parse(t.createdAt) >= after).map((t) => t.id);
    }
    console.log(`replaying ${ids.length} thread(s) with ${decider.name} (prompt ${prompts.hash})`);
    let points = 0;
    let differ = 0;
    let refused = 0;
    for (const id of ids) {
      const thread = await store.getThread(id);
      if (!thread) {
        console.error(`${id}: no such thread`);
        continue;
      }
      console.log(`\n${id} (${thread.repo})`);
      for (const r of await replayThread(thread, decider)) {
        points += 1;
        const then =
          "step" in r.recorded ? describeStep(r.recorded.step) : `error: ${r.recorded.error.slice(0, 80)}`;
        const now = "step" in r.now ? describeStep(r.now.step) : `error: ${r.now.error.slice(0, 80)}`;
        const verdict = r.verdict
          ? ` [policy: ${r.verdict.kind}${r.verdict.reason ? `: ${r.verdict.reason}` : ""}]`
          : "";
        if (r.verdict?.kind === "refuse") refused += 1;
        if (r.same) console.log(`  #${r.seq} same     ${now}${verdict}`);
        else {
          differ += 1;
          console.log(`  #${r.seq} DIFFERS  then: ${then}\n               now:  ${now}${verdict}`);
        }
      }
    }
    console.log(
      `\n${points} decision point(s): ${points - differ} same, ${differ} different, ${refused} new answer(s) the policy refuses`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
