import { wroteOne, type Dialect } from "./dialect.js";
import { toDeployment, type DeploymentRow } from "./rows.js";
import type { DeploymentRecord } from "./store.js";

/** Small records in SQL: references (outside ids to threads) and the deployments deploybot created. */

export async function setRef(db: Dialect, key: string, value: string, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO refs (key, value, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    [key, value, now.toISOString()],
  );
}

export async function getRef(db: Dialect, key: string): Promise<string | null> {
  const { rows } = await db.query<{ value: string }>("SELECT value FROM refs WHERE key = ?", [key]);
  return rows[0]?.value ?? null;
}

export async function recordDeployment(
  db: Dialect,
  record: Omit<DeploymentRecord, "state" | "finishedAt" | "runId">,
  now: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO deployments
       (deployment_id, repo, component, environment, sha, thread_id, step_seq, run_id, state, created_at, finished_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'pending', ?, NULL)
     ON CONFLICT (deployment_id) DO NOTHING`,
    [
      record.deploymentId,
      record.repo,
      record.component,
      record.environment,
      record.sha,
      record.threadId,
      record.stepSeq,
      now.toISOString(),
    ],
  );
}

export async function setDeploymentRun(db: Dialect, deploymentId: number, runId: number): Promise<void> {
  await db.query("UPDATE deployments SET run_id = ? WHERE deployment_id = ?", [runId, deploymentId]);
}

export const finishDeployment = (
  db: Dialect,
  deploymentId: number,
  state: "success" | "failure",
  now: Date,
) =>
  wroteOne(
    db,
    "UPDATE deployments SET state = ?, finished_at = ? WHERE deployment_id = ? AND state = 'pending'",
    [state, now.toISOString(), deploymentId],
  );

/** The newest deployment matching `where` (a condition on its columns), or null. */
async function newestDeployment(
  db: Dialect,
  where: string,
  params: (string | number)[],
): Promise<DeploymentRecord | null> {
  const { rows } = await db.query<DeploymentRow>(
    `SELECT * FROM deployments WHERE ${where} ORDER BY deployment_id DESC LIMIT 1`,
    params,
  );
  return rows[0] ? toDeployment(rows[0]) : null;
}

export const getDeployment = (db: Dialect, deploymentId: number) =>
  newestDeployment(db, "deployment_id = ?", [deploymentId]);

export const getDeploymentByRun = (db: Dialect, runId: number) => newestDeployment(db, "run_id = ?", [runId]);

export const findDeploymentForStep = (db: Dialect, threadId: string, stepSeq: number) =>
  newestDeployment(db, "thread_id = ? AND step_seq = ?", [threadId, stepSeq]);

export async function successfulDeployments(
  db: Dialect,
  repo: string,
  filter: { component?: string; environment?: string; limit?: number },
): Promise<DeploymentRecord[]> {
  const where = ["repo = ?", "state = 'success'"];
  const params: (string | number)[] = [repo];
  if (filter.component !== undefined) {
    where.push("component = ?");
    params.push(filter.component);
  }
  if (filter.environment !== undefined) {
    where.push("environment = ?");
    params.push(filter.environment);
  }
  const { rows } = await db.query<DeploymentRow>(
    `SELECT * FROM deployments WHERE ${where.join(" AND ")}
     ORDER BY finished_at DESC, deployment_id DESC LIMIT ?`,
    [...params, filter.limit ?? 20],
  );
  return rows.map(toDeployment);
}
