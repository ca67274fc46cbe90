import { describe, expect, it } from "vitest";
import { manualLockOn, manualLockText, type ManualLock } from "../../../src/agent/policy/manual-locks.js";

const lock = (overrides: Partial<ManualLock>): ManualLock => ({
  repo: "acme/shop",
  environment: "production",
  component: null,
  reason: "migrating the database",
  by: "octocat",
  at: "2026-02-04T09:00:00Z",
  ...overrides,
});

const backendInProduction = { repo: "acme/shop", component: "backend", environment: "production" };

describe("a manual lock", () => {
  it("on an environment holds every component there", () => {
    const all = lock({});
    expect(manualLockOn([all], backendInProduction)).toBe(all);
    expect(manualLockOn([all], { ...backendInProduction, component: "frontend" })).toBe(all);
  });

  it("on a component holds that component only", () => {
    const frontend = lock({ component: "frontend" });
    expect(manualLockOn([frontend], backendInProduction)).toBeNull();
    expect(manualLockOn([frontend], { ...backendInProduction, component: "frontend" })).toBe(frontend);
  });

  it("holds neither another environment nor another repository", () => {
    expect(manualLockOn([lock({ environment: "staging" })], backendInProduction)).toBeNull();
    expect(manualLockOn([lock({ repo: "acme/other" })], backendInProduction)).toBeNull();
  });

  it("is named by the oldest of several that hold the place", () => {
    const newer = lock({ by: "hubot", at: "2026-02-04T10:00:00Z" });
    const older = lock({ component: "backend", at: "2026-02-04T08:00:00Z" });
    expect(manualLockOn([newer, older], backendInProduction)).toBe(older);
  });

  it("says who locked what and why", () => {
    expect(manualLockText(lock({}))).toBe("production is locked by @octocat: migrating the database");
    expect(manualLockText(lock({ component: "backend", by: "U01APPROVER" }))).toBe(
      "backend in production is locked by U01APPROVER: migrating the database",
    );
  });
});
