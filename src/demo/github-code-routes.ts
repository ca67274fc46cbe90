import { json, notFound, sampleSha, type SimulatedRepo } from "./github-repo-model.js";
import type { ServiceReply, ServiceRequest } from "./http-service.js";

/**
 * The simulated GitHub's routes about code and conversation: the repository, its config file,
 * branches, a PR's files, CI of a commit, comparisons and PR comments. `rest` is the path after
 * `/repos/<owner>/<name>`; a route that is not one of these answers null.
 */
export function codeRoutes(repo: SimulatedRepo, request: ServiceRequest, rest: string): ServiceReply | null {
  const { method } = request;
  if (method === "GET" && rest === "") return { status: 200, json: repo.repository() };
  if (method === "GET" && rest === "/contents/.github/deploybot.yml") {
    return { status: 200, text: repo.options.configYaml };
  }
  if (method === "GET" && rest.startsWith("/contents/")) return notFound;
  const branch = /^\/branches\/([^/]+)$/.exec(rest);
  if (method === "GET" && branch) {
    const head = repo.latestCommit();
    return head ? { status: 200, json: { name: branch[1], commit: { sha: head.sha } } } : notFound;
  }
  const files = /^\/pulls\/(\d+)\/files$/.exec(rest);
  if (method === "GET" && files) {
    const pull = repo.pulls.get(Number(files[1]));
    if (!pull) return notFound;
    return {
      status: 200,
      json: pull.files.map((filename, index) => ({
        sha: sampleSha(`${pull.number}:${index}`),
        filename,
        status: "modified",
        additions: 10,
        deletions: 2,
        changes: 12,
      })),
    };
  }
  const commit = /^\/commits\/([0-9a-f]{40})\/(status|check-runs)$/.exec(rest);
  if (method === "GET" && commit) {
    return commit[2] === "status"
      ? { status: 200, json: { state: "success", statuses: [{ context: "ci/test", state: "success" }] } }
      : {
          status: 200,
          json: {
            total_count: 1,
            check_runs: [{ name: "build", status: "completed", conclusion: "success" }],
          },
        };
  }
  if (method === "GET" && rest.startsWith("/compare/")) return compare(repo, rest);
  return commentRoutes(repo, request, rest);
}

function compare(repo: SimulatedRepo, rest: string): ServiceReply {
  const [base = "", head = ""] = rest.slice("/compare/".length).split("...");
  const commits = [...repo.commits.values()];
  const from = commits.findIndex((c) => c.sha === base);
  const to = commits.findIndex((c) => c.sha === head);
  const between = from >= 0 && to > from ? commits.slice(from + 1, to + 1) : [];
  return {
    status: 200,
    json: {
      status: between.length > 0 ? "ahead" : "identical",
      ahead_by: between.length,
      behind_by: 0,
      total_commits: between.length,
      html_url: `${repo.web}/compare/${base}...${head}`,
      commits: between.map((c) => ({
        sha: c.sha,
        commit: { message: c.message },
        html_url: `${repo.web}/commit/${c.sha}`,
      })),
      files: [],
    },
  };
}

function commentRoutes(repo: SimulatedRepo, request: ServiceRequest, rest: string): ServiceReply | null {
  const { method } = request;
  const issueComments = /^\/issues\/(\d+)\/comments$/.exec(rest);
  if (issueComments) {
    const issue = Number(issueComments[1]);
    if (method === "GET") {
      return {
        status: 200,
        json: repo.comments.filter((c) => c.issue === issue).map((c) => repo.comment(c)),
      };
    }
    if (method === "POST") {
      const comment = { id: repo.newCommentId(), issue, body: String(json(request).body ?? "") };
      repo.comments.push(comment);
      return { status: 201, json: repo.comment(comment) };
    }
  }
  const editComment = /^\/issues\/comments\/(\d+)$/.exec(rest);
  if (method === "PATCH" && editComment) {
    const comment = repo.comments.find((c) => c.id === Number(editComment[1]));
    if (!comment) return notFound;
    comment.body = String(json(request).body ?? comment.body);
    return { status: 200, json: repo.comment(comment) };
  }
  return null;
}
