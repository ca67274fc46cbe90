/**
 * `npm run eval [-- --mode rules|recorded|live] [--record] [--case <name>] [--show-context]`
 *
 * Runs the decision cases in evals/cases/ (format: evals/README.md), prints a table and writes
 * evals/results.json. Modes: rules (offline, the default), recorded (the openai decider against
 * the recorded answers in evals/recorded/), live (the model from OPENAI_API_KEY, OPENAI_BASE_URL,
 * OPENAI_MODEL; `--record` keeps its answers as the new recordings).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadPrompts } from "../src/agent/prompts.js";
import { loadProcessEnv, parseSettings } from "../src/config/env.js";
import { renderContext } from "../src/agent/context.js";
import { EVALS_DIR, loadCases } from "./lib/cases.js";
import { describeStep } from "./lib/evaluate.js";
import { runSuite, type EvalMode } from "./lib/suite.js";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      mode: { type: "string", default: "rules" },
      record: { type: "boolean", default: false },
      case: { type: "string" },
      "show-context": { type: "boolean", default: false },
    },
  });
  const mode = values.mode as EvalMode;
  if (!["rules", "recorded", "live"].includes(mode)) {
    console.error(`unknown mode "${values.mode}"; use rules, recorded or live`);
    return 2;
  }
  const cases = loadCases().filter((c) => !values.case || c.name === values.case);
  if (cases.length === 0) {
    console.error(`no case named "${values.case}" in evals/cases/`);
    return 2;
  }
  const prompts = loadPrompts();
  if (values["show-context"]) {
    for (const c of cases) console.log(`--- ${c.name}: ${c.about}\n${renderContext(c.thread, c.config)}\n`);
  }
  const settings = mode === "live" ? parseSettings(loadProcessEnv()) : null;
  const live =
    settings?.openai.apiKey !== undefined
      ? {
          apiKey: settings.openai.apiKey,
          model: settings.openai.model,
          ...(settings.openai.baseUrl ? { baseURL: settings.openai.baseUrl } : {}),
        }
      : undefined;
  const { results, summary } = await runSuite(mode, cases, prompts, {
    ...(live ? { live } : {}),
    record: values.record,
  });

  const width = Math.max(...results.map((r) => r.name.length));
  // In live mode, what the model's server reported: prompt and completion tokens, and latency.
  const liveHeader = mode === "live" ? "  in/out      ms" : "";
  console.log(`${"case".padEnd(width)}  result  tokens  naive${liveHeader}  answer`);
  for (const r of results) {
    const live =
      mode === "live" && r.meta
        ? `  ${`${r.meta.tokens_in ?? "?"}/${r.meta.tokens_out ?? "?"}`.padStart(6)}  ${String(r.meta.latency_ms).padStart(6)}`
        : "";
    console.log(
      `${r.name.padEnd(width)}  ${r.pass ? "pass  " : "FAIL  "}  ${String(r.tokens.total).padStart(6)}  ${String(r.tokens.naive).padStart(5)}${live}  ${
        r.answer ? describeStep(r.answer) : "-"
      }${r.pass ? "" : `\n${" ".repeat(width + 2)}${r.problems.join("\n" + " ".repeat(width + 2))}`}`,
    );
  }
  const t = summary.tokens;
  console.log("");
  console.log(`mode ${summary.mode} (${summary.model}), prompt ${summary.prompt_hash}`);
  console.log(`passed                ${summary.passed}/${summary.cases} (${summary.pass_rate}%)`);
  console.log(
    `forbidden authorised  ${summary.forbidden_authorised} of ${summary.forbidden_checked} checked`,
  );
  console.log(`retries               ${summary.retries}`);
  console.log(
    `tokens per decision   p50 ${t.p50}, p95 ${t.p95} (system ${t.system} + user p50 ${t.user_p50}; o200k)`,
  );
  console.log(`naive chat history    p50 ${t.naive_p50}; naive/context per case p50 ${t.ratio_p50}x`);
  if (summary.latency_ms)
    console.log(`latency               p50 ${summary.latency_ms.p50} ms, p95 ${summary.latency_ms.p95} ms`);

  const file = join(EVALS_DIR, "results.json");
  writeFileSync(file, `${JSON.stringify({ summary, results }, null, 2)}\n`);
  console.log(`wrote evals/results.json`);
  return summary.forbidden_authorised > 0 ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
