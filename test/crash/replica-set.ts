import { createHash, randomUUID } from "node:crypto";
import { clickBody } from "../helpers/app-server.js";
import { deploymentStatus } from "../helpers/fixtures.js";
import { AppProcess, waitFor, type AppOptions } from "./app-process.js";
import { FakeGitHub, FakeSlack, type FakeRepo } from "./fakes.js";
import type { RecordedRequest } from "./fake-server.js";
import { TestDatabase } from "./postgres-database.js";

/**
 * Several deploybot replicas on one PostgreSQL database, as behind a load balancer that sends
 * every request to each of them (the inbox deduplicates by delivery id). It plays the deploy
 * workflows (a final status for each dispatched run, then the signed `deployment_status` webhook),
 * clicks approval cards, and tells what went wrong: a step deployed twice, a run dispatched twice,
 * a deployment left pending, a thread that did not settle.
 */

/** Settings for a quick takeover after a kill; `info` logs say which replica did what. */
export const REPLICA_SETTINGS = { pollMs: 100, leaseMs: 3_000, concurrency: 4, logLevel: "info" } as const;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const tail = (text: string, max: number) => (text.length > max ? `…${text.slice(-max)}` : text);

export interface ReplicaSetOptions {
  github: FakeGitHub;
  database: TestDatabase;
  slack?: FakeSlack;
  /** Slack user id that clicks approve on every approval card. */
  approver?: string;
}

export class ReplicaSet {
  /** Replicas by slot; a killed replica keeps its slot (and its output) until it is restarted. */
  readonly replicas: AppProcess[] = [];
  /** Every process started, for the output of killed ones too. */
  private readonly started: AppProcess[] = [];
  private readonly played = new Set<number>();
  private readonly clicked = new Set<string>();
  private driving: Promise<void> | null = null;
  private stopped = false;
  /** Problems of the driver (a webhook no replica took); reported by `describe()`. */
  private readonly driverErrors: string[] = [];

  constructor(private readonly options: ReplicaSetOptions) {}

  private appOptions(): AppOptions {
    return {
      databaseUrl: this.options.database.url,
      githubHost: this.options.github.host,
      ...(this.options.slack ? { slackUrl: this.options.slack.url } : {}),
      ...REPLICA_SETTINGS,
    };
  }

  /** Starts (or restarts) the replica in `slot`. */
  async start(slot: number): Promise<AppProcess> {
    const generation = this.started.filter((a) => a.label.startsWith(`r${slot + 1}.`)).length + 1;
    const app = await AppProcess.start(`r${slot + 1}.${generation}`, this.appOptions()).catch(
      async (error: unknown) => {
        throw new Error(`${String(error)}\n${await this.describe()}`);
      },
    );
    this.started.push(app);
    this.replicas[slot] = app;
    return app;
  }

  async kill(slot: number): Promise<void> {
    await this.replicas[slot]?.kill();
  }

  get running(): AppProcess[] {
    return this.replicas.filter((app) => app.running);
  }

  /**
   * Sends a request to every running replica at once; resolves once at least one answered 200 (the
   * request is stored), sending it again while none did (a replica killed meanwhile), as GitHub's
   * redelivery would.
   */
  private async toAll(
    what: string,
    send: (app: AppProcess) => Promise<{ status: number; body: string }>,
  ): Promise<void> {
    const answers: string[] = [];
    await waitFor(
      `a replica to take ${what}`,
      async () => {
        if (this.stopped) return true; // the test is over: nobody waits for this request any more
        const results = await Promise.all(
          this.running.map((app) =>
            send(app).then(
              (r) => `${app.label}: ${r.status}${r.status === 200 ? "" : ` ${r.body.slice(0, 200)}`}`,
              (error: unknown) => `${app.label}: ${String(error)}`,
            ),
          ),
        );
        answers.push(...results);
        return results.some((r) => /: 200$/.test(r));
      },
      {
        timeoutMs: 30_000,
        intervalMs: 500,
        context: async () => `answers:\n${answers.join("\n")}\n${await this.describe()}`,
      },
    );
  }

  /** A signed webhook, the same delivery id to every replica. */
  async webhook(event: string, payload: unknown, deliveryId = `replicas-${randomUUID()}`): Promise<void> {
    const merged = (payload as { pull_request?: { merge_commit_sha?: string; number?: number } })
      .pull_request;
    if (event === "pull_request" && merged?.merge_commit_sha && merged.number !== undefined) {
      // Merges land on the deploy branch in the order the test sends them.
      this.options.github.commitOrder.set(merged.merge_commit_sha, this.options.github.commitOrder.size + 1);
    }
    await this.toAll(`${event} ${deliveryId}`, (app) => app.webhook(event, payload, deliveryId));
  }

  /** A signed Slack interactivity request, the same body to every replica. */
  async slackAction(body: string): Promise<void> {
    await this.toAll("a Slack click", (app) => app.slackAction(body));
  }

  /**
   * From now on, in the background: every workflow dispatched ends with `success` (its
   * deployment's status on GitHub, then the `deployment_status` webhook), and every approval card
   * is approved. Each run is played once, each card clicked once.
   */
  drive(): void {
    if (this.driving) return;
    this.driving = (async () => {
      while (!this.stopped) {
        try {
          await this.playRuns();
          await this.clickCards();
        } catch (error) {
          this.driverErrors.push(String(error).split("\n")[0]!);
        }
        await sleep(100);
      }
    })();
  }

  private async playRuns(): Promise<void> {
    const { github } = this.options;
    for (const dispatch of [...github.dispatches]) {
      if (this.played.has(dispatch.runId)) continue;
      const deploymentId = Number(dispatch.inputs.deployment_id);
      const deployment = github.deployments.find((d) => d.id === deploymentId);
      if (!deployment) throw new Error(`run ${dispatch.runId} names unknown deployment ${deploymentId}`);
      github.addStatus(deploymentId, "success", `run ${dispatch.runId} deployed`);
      this.played.add(dispatch.runId);
      await this.webhook(
        "deployment_status",
        deploymentStatus({
          deploymentId,
          state: "success",
          repo: deployment.repo,
          sha: deployment.sha,
          environment: deployment.environment,
        }),
        `status-${dispatch.runId}`,
      );
    }
  }

  private async clickCards(): Promise<void> {
    const { slack, approver } = this.options;
    if (!slack || !approver) return;
    for (const { approvalId } of slack.approvalCards()) {
      if (this.clicked.has(approvalId)) continue;
      this.clicked.add(approvalId);
      await this.slackAction(clickBody("deploybot.approve", approvalId, approver, `trig-${approvalId}`));
    }
  }

  /** Stops every replica, then the driving. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.started.map((app) => app.kill()));
    await this.driving;
  }

  /**
   * Waits until there are `threads` threads and every one is done, and the inbox holds nothing
   * queued; fails with everything `describe()` shows.
   */
  async settled(threads: number, timeoutMs: number): Promise<void> {
    const { database } = this.options;
    await waitFor(
      `${threads} threads, all done, and an empty inbox`,
      async () => {
        const rows = await database.threads();
        const inbox = await database.inboxCounts();
        return rows.length === threads && rows.every((t) => t.status === "done") && !inbox.queued;
      },
      { timeoutMs, intervalMs: 250, context: () => this.describe() },
    );
  }

  /**
   * What breaks the exactly-once promise, one line each: a thread step with more than one GitHub
   * deployment, a deployment with more than one run, a deployment without a final status.
   */
  exactlyOnceProblems(): string[] {
    const { github } = this.options;
    const problems: string[] = [];
    const byStep = new Map<string, number[]>();
    for (const d of github.deployments) {
      const payload = (d.payload ?? {}) as { thread_id?: unknown; step_seq?: unknown };
      const key = `${d.repo} thread ${String(payload.thread_id)} step ${String(payload.step_seq)} (${d.environment})`;
      byStep.set(key, [...(byStep.get(key) ?? []), d.id]);
    }
    for (const [step, ids] of byStep) {
      if (ids.length > 1) problems.push(`${ids.length} deployments for ${step}: ${ids.join(", ")}`);
    }
    for (const d of github.deployments) {
      const runs = github.dispatchesOf(d.id).filter((r) => github.repoOf(r) === d.repo);
      if (runs.length > 1) {
        problems.push(
          `${runs.length} runs dispatched for deployment ${d.id}: ${runs.map((r) => r.runId).join(", ")}`,
        );
      }
    }
    for (const d of github.deployments) {
      if (github.finalStateOf(d.id) === null) {
        const states = (github.statuses.get(d.id) ?? []).map((s) => s.state);
        problems.push(
          `deployment ${d.id} (${d.repo} ${d.environment}) left pending; statuses: ${states.join(", ") || "none"}`,
        );
      }
    }
    return problems;
  }

  /** Threads that are not done, one line each. */
  async unsettledThreads(): Promise<string[]> {
    const rows = await this.options.database.threads();
    return rows.filter((t) => t.status !== "done").map((t) => `${t.id} (${t.repo}) is ${t.status}`);
  }

  /** Everything a failure should show: threads and their events, inbox, GitHub, processes. */
  async describe(): Promise<string> {
    const { github, database, slack } = this.options;
    const lines: string[] = [];
    try {
      const events = await database.events();
      for (const thread of await database.threads()) {
        const types = events
          .filter((e) => e.thread_id === thread.id)
          .map((e) => {
            const id = e.data.deployment_id;
            return typeof id === "number" ? `${e.type}(${id})` : e.type;
          });
        lines.push(
          `thread ${thread.id} ${thread.repo}: ${thread.status}${thread.waiting_on ? ` on ${thread.waiting_on}` : ""}: ${types.join(", ")}`,
        );
      }
      lines.push(`inbox: ${JSON.stringify(await database.inboxCounts())}`);
    } catch (error) {
      lines.push(`could not read the database: ${String(error)}`);
    }
    lines.push(
      "deployments on GitHub:",
      ...github.deployments.map((d) => {
        const payload = d.payload as { thread_id?: string; step_seq?: number } | undefined;
        const states = (github.statuses.get(d.id) ?? []).map((s) => s.state).join(",") || "pending";
        const runs = github.dispatchesOf(d.id).map((r) => r.runId);
        return `  ${d.id} ${d.repo} ${d.environment} ${d.sha.slice(0, 7)} thread ${payload?.thread_id} step ${payload?.step_seq}: ${states}; runs ${runs.join(",") || "none"}`;
      }),
      `GitHub requests (${github.requests.length}, ${github.held} held now):\n${github.describe() || "(none)"}`,
    );
    if (github.unmatched.length > 0) {
      lines.push(`GitHub requests no route answered:\n${github.unmatched.map((r) => r.path).join("\n")}`);
    }
    if (slack) lines.push(`Slack calls: ${slack.calls.map((c) => c.method).join(", ") || "(none)"}`);
    if (this.driverErrors.length > 0) lines.push(`driver errors:\n${this.driverErrors.join("\n")}`);
    // The last part of each process's output: a kill test starts many of them.
    lines.push(...this.started.map((app) => tail(app.describe(), 4_000)));
    return lines.join("\n");
  }
}

/** A merge commit SHA of its own for each pull request. */
export function mergeShaOf(repo: string, number: number): string {
  return createHash("sha1").update(`${repo}#${number}`).digest("hex");
}

/** The GitHub writes a deploy makes: create a deployment, dispatch its workflow, post a status. */
export function isGitHubWrite(request: RecordedRequest): boolean {
  return (
    request.method === "POST" &&
    /^\/api\/v3\/repos\/[^/]+\/[^/]+\/(deployments|deployments\/\d+\/statuses|actions\/workflows\/[^/]+\/dispatches)$/.test(
      request.path,
    )
  );
}

export function isCreateDeployment(request: RecordedRequest): boolean {
  return request.method === "POST" && /^\/api\/v3\/repos\/[^/]+\/[^/]+\/deployments$/.test(request.path);
}

export function isDispatch(request: RecordedRequest): boolean {
  return (
    request.method === "POST" &&
    /^\/api\/v3\/repos\/[^/]+\/[^/]+\/actions\/workflows\/[^/]+\/dispatches$/.test(request.path)
  );
}

export interface ReplicaScenario {
  github: FakeGitHub;
  slack: FakeSlack | null;
  database: TestDatabase;
  set: ReplicaSet;
}

/** A fresh database, a fake GitHub serving `repos` (and a fake Slack), and a replica set, none started. */
export async function replicaScenario(options: {
  prefix: string;
  repos: FakeRepo[];
  slackApprover?: string;
}): Promise<ReplicaScenario> {
  const database = await TestDatabase.create(options.prefix);
  const github = new FakeGitHub({ repos: options.repos });
  const slack = options.slackApprover ? new FakeSlack([options.slackApprover]) : null;
  await Promise.all([github.start(), slack?.start()]);
  const set = new ReplicaSet({
    github,
    database,
    ...(slack ? { slack, approver: options.slackApprover } : {}),
  });
  return { github, slack, database, set };
}

export async function endScenario(scenario: ReplicaScenario | undefined): Promise<void> {
  if (!scenario) return;
  await scenario.set.stop();
  await Promise.all([scenario.github.close(), scenario.slack?.close()]);
  await scenario.database.drop();
}
