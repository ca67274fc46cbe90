import nock from "nock";
import { afterAll, afterEach, beforeAll } from "vitest";

// No test reaches the network: only loopback (for real-server tests) is allowed.
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith("127.0.0.1") || host.startsWith("localhost"));
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(() => {
  nock.enableNetConnect();
});
