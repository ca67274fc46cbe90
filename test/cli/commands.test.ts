import nock from "nock";
import { describe, expect, it } from "vitest";
import { COMMANDS, runCli } from "../../src/cli/commands.js";
import type { CliIo } from "../../src/cli/io.js";

const URL = "http://deploybot.test";
const TOKEN = "cli-token-0123456789abcdef";

function io(env: CliIo["env"] = { DEPLOYBOT_URL: URL, DEPLOYBOT_TOKEN: TOKEN }) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env }, out, err };
}

const api = () => nock(URL, { reqheaders: { authorization: `Bearer ${TOKEN}` } });

describe("deploybot threads ls", () => {
  it("lists the threads of the statuses asked for, as a table", async () => {
    const scope = api()
      .get("/api/v1/threads")
      .query({ status: "waiting_for_approval" })
      .reply(200, {
        threads: [
          {
            id: "th_1",
            repo: "acme/shop",
            title: "acme/shop#7 Speed up",
            status: "waiting_for_approval",
            updatedAt: "2026-11-24T12:00:00.000Z",
          },
        ],
      });
    const { io: cli, out } = io();

    const code = await runCli(["threads", "ls", "--status", "waiting_for_approval"], cli);

    expect(code).toBe(0);
    expect(out[0]).toMatch(
      /^THREAD\s+STATUS\s+UPDATED\s+REPOSITORY\s+TITLE\nth_1\s+waiting_for_approval\s+2026-11-24 12:00:00\s+acme\/shop\s+acme\/shop#7 Speed up$/,
    );
    expect(scope.isDone()).toBe(true);
  });

  it("refuses an unknown status before calling anything", async () => {
    const { io: cli, err } = io();
    expect(await runCli(["threads", "ls", "--status", "sleeping"], cli)).toBe(1);
    expect(err[0]).toContain("unknown status sleeping");
  });

  it("says which variables to set when DEPLOYBOT_URL or DEPLOYBOT_TOKEN is missing", async () => {
    const { io: cli, err } = io({});
    expect(await runCli(["threads", "ls"], cli)).toBe(1);
    expect(err[0]).toContain("set DEPLOYBOT_URL");
  });
});

describe("deploybot threads show", () => {
  it("prints the thread's markdown from the REST API", async () => {
    const scope = api()
      .get("/api/v1/threads/th_1")
      .reply(200, { thread: {}, events: [], markdown: "### Deploy\n- staging: **success**" });
    const { io: cli, out } = io();
    expect(await runCli(["threads", "show", "th_1"], cli)).toBe(0);
    expect(out).toEqual(["### Deploy\n- staging: **success**"]);
    expect(scope.isDone()).toBe(true);
  });

  it("reports the server's answer and what to check on a 401", async () => {
    const scope = api().get("/api/v1/threads/th_1").reply(401, { error: "unknown token" });
    const { io: cli, err } = io();
    expect(await runCli(["threads", "show", "th_1"], cli)).toBe(1);
    expect(err[0]).toBe("deploybot: deploybot answered 401: unknown token (check DEPLOYBOT_TOKEN)");
    expect(scope.isDone()).toBe(true);
  });
});

describe("deploybot approve, reject, pause, resume and cancel", () => {
  it("post to the thread's action with the reason and an Idempotency-Key", async () => {
    const bodies: unknown[] = [];
    const scope = api()
      .matchHeader("idempotency-key", /^[0-9a-f-]{36}$/)
      .post("/api/v1/threads/th_1/reject", (body) => bodies.push(body) > 0)
      .reply(202, { accepted: true })
      .post("/api/v1/threads/th_1/pause", (body) => bodies.push(body) > 0)
      .reply(202, { accepted: true })
      .post("/api/v1/threads/th_1/approve", (body) => bodies.push(body) > 0)
      .reply(202, { accepted: true });
    const { io: cli, out } = io();

    await runCli(["reject", "th_1", "--reason", "deploy the frontend first"], cli);
    await runCli(["pause", "th_1", "freeze", "until", "monday"], cli);
    await runCli(["approve", "th_1"], cli);

    expect(bodies).toEqual([{ reason: "deploy the frontend first" }, { reason: "freeze until monday" }, {}]);
    expect(out[0]).toContain("reject sent for th_1");
    expect(scope.isDone()).toBe(true);
  });

  it("asks for a reason to reject", async () => {
    const { io: cli, err } = io();
    expect(await runCli(["reject", "th_1"], cli)).toBe(1);
    expect(err[0]).toContain("--reason");
  });
});

describe("the command table", () => {
  it("lists every command in the usage and refuses unknown ones", async () => {
    const { io: cli, out, err } = io();
    expect(await runCli(["help"], cli)).toBe(0);
    for (const command of Object.values(COMMANDS)) expect(out[0]).toContain(command.usage);
    expect(await runCli(["deploy-everything"], cli)).toBe(2);
    expect(err[0]).toContain('unknown command "deploy-everything"');
  });
});

describe("deploybot replay", () => {
  it("runs the project's replay tool, which says how to call it when no thread is named", async () => {
    const { io: cli } = io();
    // The tool prints its usage and exits 2; the CLI passes its exit code on.
    expect(await runCli(["replay"], cli)).toBe(2);
  });
});
