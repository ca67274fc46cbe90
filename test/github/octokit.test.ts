import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { describe, expect, it } from "vitest";
import { octokitWithTimeout } from "../../src/github/octokit.js";

describe("GitHub requests", () => {
  it("give up after the timeout instead of holding the worker", async () => {
    // A server that accepts the request and never answers, like a hung proxy.
    let received = 0;
    const server = createServer(() => {
      received += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const Octokit = octokitWithTimeout(200).defaults({
      retry: { enabled: false },
      throttle: { enabled: false },
    });
    const octokit = new Octokit({ auth: "token", baseUrl: `http://127.0.0.1:${port}` });

    try {
      await expect(octokit.rest.repos.get({ owner: "acme", repo: "shop" })).rejects.toThrow(/abort|timeout/i);
      expect(received).toBe(1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("leave answers that come in time alone", async () => {
    const Octokit = octokitWithTimeout(5_000).defaults({
      retry: { enabled: false },
      throttle: { enabled: false },
    });
    const scope = nock("https://api.github.com")
      .get("/repos/acme/shop")
      .reply(200, { default_branch: "main" });

    const { data } = await new Octokit({ auth: "token" }).rest.repos.get({ owner: "acme", repo: "shop" });

    expect(data.default_branch).toBe("main");
    expect(scope.isDone()).toBe(true);
  });
});
