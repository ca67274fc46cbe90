import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../src/store/group-commit.js";

/** A commit that records its batches, answers each item doubled, and fails any batch holding a negative item. */
function recordingCommit() {
  const batches: number[][] = [];
  const commit = async (items: readonly number[]) => {
    batches.push([...items]);
    if (items.some((n) => n < 0)) throw new Error(`cannot store ${items.join(", ")}`);
    return items.map((n) => n * 2);
  };
  return { batches, commit };
}

/** A promise opened from outside. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe("a group commit", () => {
  it("commits items submitted together in one batch, each submitter getting its own result", async () => {
    const { batches, commit } = recordingCommit();
    const group = new GroupCommit({ commit });
    const results = await Promise.all([group.submit(1), group.submit(2), group.submit(3)]);
    expect(results).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("settles a submitter only once the commit has finished", async () => {
    const started = gate();
    const release = gate();
    const group = new GroupCommit<number, number>({
      commit: async (items) => {
        started.open();
        await release.opened;
        return items;
      },
    });
    let settled = false;
    const result = group.submit(1).then((n) => ((settled = true), n));
    await started.opened;
    await Promise.resolve();
    expect(settled).toBe(false);
    release.open();
    expect(await result).toBe(1);
    expect(settled).toBe(true);
  });

  it("puts items arriving during a commit into the next batch", async () => {
    const release = gate();
    const started = gate();
    const batches: number[][] = [];
    const group = new GroupCommit<number, number>({
      commit: async (items) => {
        batches.push([...items]);
        started.open();
        await release.opened;
        return items;
      },
    });
    const first = group.submit(1);
    await started.opened;
    const later = [group.submit(2), group.submit(3)];
    release.open();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it("fails only the submitter whose item fails, committing the others one by one", async () => {
    const { batches, commit } = recordingCommit();
    const group = new GroupCommit({ commit });
    const results = await Promise.allSettled([group.submit(1), group.submit(-1), group.submit(3)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: "cannot store -1" });
    expect(batches).toEqual([[1, -1, 3], [1], [-1], [3]]);
  });

  it("splits what is pending into batches of at most maxBatch items", async () => {
    const { batches, commit } = recordingCommit();
    const group = new GroupCommit({ commit, maxBatch: 2 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => group.submit(n)));
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("commits what is pending when drained, before the window ends", async () => {
    const { batches, commit } = recordingCommit();
    const group = new GroupCommit({ commit, windowMs: 60_000 });
    const result = group.submit(7);
    await group.drain();
    expect(batches).toEqual([[7]]);
    expect(await result).toBe(14);
  });
});
