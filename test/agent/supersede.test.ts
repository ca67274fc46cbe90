import { describe, expect, it } from "vitest";
import { supersessions, type QueuedMerge } from "../../src/agent/supersede.js";

const merge = (number: number, minute: number, components: string[]): QueuedMerge => ({
  threadId: `th_${number}`,
  createdAt: `2026-11-24T12:${String(minute).padStart(2, "0")}:00.000Z`,
  number,
  mergeSha: String(number).repeat(40).slice(0, 40),
  components,
});

describe("superseding queued merges", () => {
  it("lets the newest merge supersede older ones for the same component", () => {
    const result = supersessions([
      merge(8, 2, ["backend"]),
      merge(7, 1, ["backend"]),
      merge(9, 3, ["backend"]),
    ]);
    expect(result.map(({ older, newer }) => [older.number, newer.number])).toEqual([
      [7, 9],
      [8, 9],
    ]);
  });

  it("keeps an older merge that changed a component the newer one does not deploy", () => {
    const result = supersessions([merge(7, 1, ["backend", "frontend"]), merge(8, 2, ["backend"])]);
    expect(result).toEqual([]);
  });

  it("supersedes nothing when one merge waits", () => {
    expect(supersessions([merge(7, 1, ["backend"])])).toEqual([]);
  });
});
