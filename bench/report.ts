/** The shape of bench/results.json, the targets beside each figure, and the printed table. */

export type Results = Record<string, Record<string, number | null>>;

/** Each key's target, as the issue sets it; keys without one are context. */
const TARGETS: Record<string, [string, (value: number) => boolean]> = {
  "ingest.ratio": [">= 0.8", (v) => v >= 0.8],
  "ingest.p99_ms": ["<= 50 (20 connections)", (v) => v <= 50],
  "ingest.bytes_per_delivery": ["<= 2048", (v) => v <= 2048],
  "store.sqlite_appends_per_s": [">= 2000", (v) => v >= 2000],
  "store.append_cost_ratio_1000_vs_10": ["<= 2", (v) => v <= 2],
  "thread.event_parses_per_append": ["<= 3", (v) => v <= 3],
  "decisions.llm_calls_one_component": ["<= 2", (v) => v <= 2],
  "decisions.llm_calls_two_components": ["<= 4", (v) => v <= 4],
  "worker.merges_per_minute": [">= 300", (v) => v >= 300],
  "memory.rss_idle_mb": ["<= 150", (v) => v <= 150],
};

export function printTable(results: Results): void {
  const rows = Object.entries(results).flatMap(([group, values]) =>
    Object.entries(values).map(([key, value]) => {
      const name = `${group}.${key}`;
      const target = TARGETS[name];
      const verdict = !target || value === null ? "" : target[1](value) ? "met" : "missed";
      return [name, value === null ? "n/a" : String(value), target?.[0] ?? "", verdict];
    }),
  );
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) {
    console.log(row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join("  "));
  }
}
