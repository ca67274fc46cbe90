import { json, notFound, type Deployment, type Run, type SimulatedRepo } from "./github-repo-model.js";
import type { ServiceReply, ServiceRequest } from "./http-service.js";

/**
 * The simulated GitHub's routes about deploying: deployments and their statuses, workflow
 * dispatches (`dispatched` runs the workflow), runs, jobs and logs. `rest` is the path after
 * `/repos/<owner>/<name>`; a route that is not one of these answers null.
 */
export function actionsRoutes(
  repo: SimulatedRepo,
  request: ServiceRequest,
  rest: string,
  dispatched: (run: Run) => void,
): ServiceReply | null {
  if (rest === "/deployments") return deployments(repo, request);
  const statuses = /^\/deployments\/(\d+)\/statuses$/.exec(rest);
  if (statuses) return deploymentStatuses(repo, request, Number(statuses[1]));
  const dispatch = /^\/actions\/workflows\/([^/]+)\/dispatches$/.exec(rest);
  if (request.method === "POST" && dispatch) return dispatchRun(repo, request, dispatch[1]!, dispatched);
  if (request.method !== "GET") return null;
  const runs = /^\/actions\/workflows\/([^/]+)\/runs$/.exec(rest);
  if (runs) return workflowRuns(repo, runs[1]!);
  const jobs = /^\/actions\/runs\/(\d+)\/jobs$/.exec(rest);
  if (jobs) return runJobs(repo, Number(jobs[1]));
  const logs = /^\/actions\/jobs\/(\d+)\/logs$/.exec(rest);
  if (logs) {
    const run = repo.runs.find((r) => r.id * 10 === Number(logs[1]));
    return run ? { status: 200, text: run.log.join("\n") } : notFound;
  }
  return null;
}

function deployments(repo: SimulatedRepo, request: ServiceRequest): ServiceReply | null {
  if (request.method === "GET") {
    const sha = request.query.get("sha");
    const environment = request.query.get("environment");
    const list = repo.deployments
      .filter((d) => (!sha || d.sha === sha) && (!environment || d.environment === environment))
      .sort((a, b) => b.id - a.id)
      .map(({ statuses: _statuses, ...d }) => d);
    return { status: 200, json: list };
  }
  if (request.method === "POST") {
    const body = json(request);
    const ref = String(body.ref ?? "");
    const deployment: Deployment = {
      id: repo.newDeploymentId(),
      sha: /^[0-9a-f]{40}$/.test(ref) ? ref : (repo.latestCommit()?.sha ?? ""),
      ref,
      environment: String(body.environment ?? "production"),
      payload: body.payload ?? {},
      description: typeof body.description === "string" ? body.description : null,
      created_at: new Date().toISOString(),
      statuses: [],
    };
    repo.deployments.push(deployment);
    const { statuses: _statuses, ...created } = deployment;
    return { status: 201, json: created };
  }
  return null;
}

function deploymentStatuses(repo: SimulatedRepo, request: ServiceRequest, id: number): ServiceReply | null {
  const deployment = repo.deployments.find((d) => d.id === id);
  if (!deployment) return notFound;
  if (request.method === "GET") return { status: 200, json: deployment.statuses };
  if (request.method === "POST") {
    const body = json(request);
    const status = {
      id: repo.newStatusId(),
      state: String(body.state ?? "pending"),
      description: String(body.description ?? ""),
      created_at: new Date().toISOString(),
      log_url: null,
    };
    deployment.statuses.unshift(status);
    return { status: 201, json: status };
  }
  return null;
}

function dispatchRun(
  repo: SimulatedRepo,
  request: ServiceRequest,
  workflow: string,
  dispatched: (run: Run) => void,
): ServiceReply {
  const body = json(request);
  const run: Run = {
    id: repo.newRunId(),
    workflow,
    inputs: (body.inputs ?? {}) as Record<string, string>,
    ref: String(body.ref ?? "main"),
    status: "queued",
    conclusion: null,
    failedStep: null,
    log: [],
  };
  repo.runs.push(run);
  dispatched(run);
  if (body.return_run_details !== true) return { status: 204 };
  return {
    status: 200,
    json: {
      workflow_run_id: run.id,
      run_url: `${repo.webUrl}/api/v3/repos/${repo.fullName}/actions/runs/${run.id}`,
      html_url: `${repo.web}/actions/runs/${run.id}`,
    },
  };
}

function workflowRuns(repo: SimulatedRepo, workflow: string): ServiceReply {
  const list = repo.runs
    .filter((r) => r.workflow === workflow)
    .reverse()
    .map((r) => ({
      id: r.id,
      name: `deploy ${r.inputs.component}`,
      display_title: repo.runTitle(r),
      event: "workflow_dispatch",
      status: r.status,
      conclusion: r.conclusion,
      head_branch: r.ref,
      html_url: `${repo.web}/actions/runs/${r.id}`,
    }));
  return { status: 200, json: { total_count: list.length, workflow_runs: list } };
}

function runJobs(repo: SimulatedRepo, runId: number): ServiceReply {
  const run = repo.runs.find((r) => r.id === runId);
  if (!run) return notFound;
  const conclusion = run.conclusion;
  return {
    status: 200,
    json: {
      total_count: 1,
      jobs: [
        {
          id: run.id * 10,
          run_id: run.id,
          name: "deploy",
          status: run.status,
          conclusion,
          html_url: `${repo.web}/actions/runs/${run.id}/job/${run.id * 10}`,
          steps: [
            { name: "Check out", status: "completed", conclusion: "success", number: 1 },
            {
              name: run.failedStep ?? "Run database migrations",
              status: "completed",
              conclusion: run.failedStep ? "failure" : conclusion,
              number: 2,
            },
          ],
        },
      ],
    },
  };
}
