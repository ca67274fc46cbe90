import { describe, expect, it } from "vitest";
import { promotionReadiness, type VerificationFact } from "../../../src/agent/policy/bake.js";

const SHA = "a".repeat(40);
const SUCCEEDED = new Date("2026-02-04T14:17:00Z");
const minutesLater = (minutes: number) => new Date(SUCCEEDED.getTime() + minutes * 60_000);

function readiness(
  from: { bake?: number; verify?: string },
  options: {
    now?: Date;
    verification?: VerificationFact | null;
    skipBake?: boolean;
    succeededAt?: Date | null;
  } = {},
) {
  return promotionReadiness({
    from: { name: "staging", windows: undefined, ...from },
    component: "backend",
    sha: SHA,
    succeededAt: options.succeededAt === undefined ? SUCCEEDED : options.succeededAt,
    verification: options.verification ?? null,
    now: options.now ?? minutesLater(3),
    skipBake: options.skipBake ?? false,
  });
}

const FIFTEEN_MINUTES = 15 * 60_000;

describe("bake time", () => {
  it("holds promotion until the bake after the success has passed", () => {
    expect(readiness({ bake: FIFTEEN_MINUTES })).toEqual({
      kind: "baking",
      until: minutesLater(15),
      reason: "staging is baking until 14:32 UTC",
    });
  });

  it("lets promotion through once the bake has passed", () => {
    expect(readiness({ bake: FIFTEEN_MINUTES }, { now: minutesLater(15) })).toEqual({ kind: "ready" });
  });

  it("is skipped by break-glass", () => {
    expect(readiness({ bake: FIFTEEN_MINUTES }, { skipBake: true })).toEqual({ kind: "ready" });
  });

  it("counts a success whose time is unknown as baked", () => {
    expect(readiness({ bake: FIFTEEN_MINUTES }, { succeededAt: null })).toEqual({ kind: "ready" });
  });

  it("holds nothing without a bake", () => {
    expect(readiness({})).toEqual({ kind: "ready" });
  });
});

describe("verification", () => {
  const verify = { verify: "verify-staging.yml" };

  it("holds promotion until it is dispatched", () => {
    const result = readiness(verify);
    expect(result.kind).toBe("verifying");
    expect(result.kind === "verifying" && result.reason).toContain("has not started");
  });

  it("does not wait for a verification of a commit another thread deployed there", () => {
    expect(readiness(verify, { succeededAt: null, verification: null })).toEqual({ kind: "ready" });
  });

  it("still refuses a commit whose recorded verification failed, whoever deployed it", () => {
    const result = readiness(verify, { succeededAt: null, verification: { conclusion: "failure" } });
    expect(result.kind).toBe("verification_failed");
  });

  it("holds promotion while it runs, even with break-glass", () => {
    const result = readiness(verify, { verification: { conclusion: "pending" }, skipBake: true });
    expect(result.kind).toBe("verifying");
    expect(result.kind === "verifying" && result.reason).toContain("has not finished");
  });

  it("lets promotion through when it succeeded", () => {
    expect(readiness(verify, { verification: { conclusion: "success" } })).toEqual({ kind: "ready" });
  });

  it("blocks promotion when it failed, saying why, even with break-glass", () => {
    const result = readiness(verify, {
      verification: {
        conclusion: "failure",
        summary: "checkout smoke test: 502",
        url: "https://ci.example/run/7",
      },
      skipBake: true,
    });
    expect(result).toEqual({
      kind: "verification_failed",
      reason:
        "the verification (verify-staging.yml) of backend aaaaaaa in staging failed: checkout smoke test: 502 (https://ci.example/run/7); it is not promoted, roll it back or fix it",
    });
  });

  it("reports the bake first while both hold", () => {
    const result = readiness(
      { ...verify, bake: FIFTEEN_MINUTES },
      { verification: { conclusion: "pending" } },
    );
    expect(result.kind).toBe("baking");
  });
});
