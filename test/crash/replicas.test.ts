import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import { CONFIG_NO_APPROVAL_YAML, CONFIG_YAML } from "../helpers/github-mocks.js";
import { assertNoDotEnv, waitFor } from "./app-process.js";
import {
  endScenario,
  isCreateDeployment,
  isGitHubWrite,
  mergeShaOf,
  replicaScenario,
  type ReplicaScenario,
} from "./replica-set.js";

/**
 * Exactly once with two replicas on one PostgreSQL database: every webhook and Slack click goes to
 * both, GitHub is slow to answer writes, and replicas start and die while threads are mid-step. No
 * step may get two GitHub deployments, no deployment two workflow runs, no deployment may stay
 * pending, and every thread must end.
 */

const SHOP = `${OWNER}/${REPO}`;

/** Pull requests by number: which parts of the code each one changes. */
function filesOf(number: number): string[] {
  switch (number % 3) {
    case 0:
      return ["api/cart.ts"];
    case 1:
      return ["web/home.tsx"];
    default:
      return ["api/orders.ts", "web/cart.tsx"];
  }
}

function merge(number: number): Record<string, unknown> {
  return mergedPullRequest({ number, sha: mergeShaOf(SHOP, number) });
}

/** A small seeded PRNG (mulberry32): the same seed, the same kill moments. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const between = (random: () => number, min: number, max: number) => Math.round(min + random() * (max - min));

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

let scenario: ReplicaScenario | undefined;

beforeAll(() => assertNoDotEnv());

afterEach(async () => {
  const current = scenario;
  scenario = undefined;
  await endScenario(current);
});

/** The three zeros and the settled threads, each reported with everything the replica set shows. */
async function expectExactlyOnce(
  s: ReplicaScenario,
  threads: number,
  timeoutMs: number,
  note = "",
): Promise<void> {
  const settling = await s.set.settled(threads, timeoutMs).then(
    () => null,
    (error: unknown) => new Error(`${note}${String(error)}`),
  );
  // A deployment deploybot abandons gets its final status (error or inactive) maybe just after the
  // thread settles.
  await waitFor("every deployment to have a final status", () => s.set.exactlyOnceProblems().length === 0, {
    timeoutMs: 10_000,
  }).catch(() => undefined);
  const problems = s.set.exactlyOnceProblems();
  expect
    .soft(problems, `${note}exactly once, broken:\n${problems.join("\n")}\n${await s.set.describe()}`)
    .toEqual([]);
  expect.soft(await s.set.unsettledThreads(), `${note}threads that did not settle`).toEqual([]);
  expect.soft((await s.database.inboxCounts()).dead ?? 0, `${note}inbox entries given up on`).toBe(0);
  if (settling) throw settling;
}

describe("two replicas on one PostgreSQL database", () => {
  it("deploy every step once while GitHub holds each write for 4 s and the second replica starts mid-step", async () => {
    const s = await replicaScenario({
      prefix: "replicas",
      repos: [{ fullName: SHOP, configYaml: CONFIG_YAML, files: filesOf }],
      slackApprover: "U01APPROVER",
    });
    scenario = s;
    let secondUp: () => void = () => undefined;
    const secondStarted = new Promise<void>((done) => (secondUp = done));
    // The first deployment is created only once the second replica runs (its start-up sweep
    // looks at every thread that is mid-step); every other write answers after 4 s.
    const firstCreate = s.github.addFault(
      "held until the 2nd replica runs",
      isCreateDeployment,
      { kind: "hold", until: secondStarted },
      1,
    );
    s.github.addFault("held 4 s", isGitHubWrite, { kind: "hold", ms: 4_000 });

    await s.set.start(0);
    s.set.drive();
    await s.set.webhook("pull_request", merge(30));
    await waitFor(
      "the 1st replica to be inside its first POST /deployments",
      () => firstCreate.hits.length > 0,
      {
        timeoutMs: 30_000,
        context: () => s.set.describe(),
      },
    );
    await s.set.start(1);
    await sleep(1_500); // its first poll (100 ms) runs the start-up sweep
    secondUp();
    await s.set.webhook("pull_request", merge(31));
    await s.set.webhook("pull_request", merge(32));

    await expectExactlyOnce(s, 3, 150_000);
    expect(s.slack!.approvalCards().length, "approval cards posted").toBeGreaterThanOrEqual(3);
    expect(s.github.unmatched.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  }, 200_000);

  it("deploy every step once while one replica or the other is killed with SIGKILL, 15 times", async () => {
    const seed = Number(process.env.DEPLOYBOT_KILL_SEED ?? 8);
    const s = await replicaScenario({
      prefix: "replicas_kill",
      repos: [{ fullName: SHOP, configYaml: CONFIG_NO_APPROVAL_YAML, files: filesOf }],
    });
    scenario = s;
    s.github.addFault("held 0.5 s", isGitHubWrite, { kind: "hold", ms: 500 });
    await Promise.all([s.set.start(0), s.set.start(1)]);
    s.set.drive();

    const merges = [...Array(10).keys()].map((i) => 40 + i);
    // One merge before each of the first ten kills; the last five land while their results flow.
    const random = seededRandom(seed);
    const kills: string[] = [];
    for (let kill = 1; kill <= 15; kill++) {
      const number = merges[kill - 1];
      if (number !== undefined) await s.set.webhook("pull_request", merge(number));
      await sleep(between(random, 300, 2_500));
      const slot = random() < 0.5 ? 0 : 1;
      const last = s.github.requests.at(-1);
      kills.push(
        `kill ${kill}: r${slot + 1} after ${s.github.requests.length} GitHub requests ` +
          `(last ${last ? `${last.method} ${last.path}` : "none"}), ${s.github.held} held`,
      );
      await s.set.kill(slot);
      await s.set.start(slot);
    }

    const note = `seed ${seed} (DEPLOYBOT_KILL_SEED); the kills:\n${kills.join("\n")}\n`;
    await expectExactlyOnce(s, merges.length, 150_000, note);
    expect(s.github.unmatched.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  }, 300_000);
});
