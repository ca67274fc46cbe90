import { describe, expect, it } from "vitest";
import { HttpError } from "../../src/http/body.js";
import {
  canonicalJson,
  fingerprintOf,
  replayOrConflict,
  type Remembered,
} from "../../src/http/idempotency.js";

/** The pure part of Idempotency-Key: canonical bodies, fingerprints, and what a retry gets. */

const cancel = { method: "POST", route: "/api/v1/threads/th_1/cancel", body: { reason: "wrong PR" } };
const remembered: Remembered = {
  fingerprint: fingerprintOf(cancel),
  request: "POST /api/v1/threads/th_1/cancel",
  status: 202,
  body: { thread_id: "th_1", action: "cancel", accepted: true },
  at: "2026-11-24T12:00:00.000Z",
};

describe("a canonical body", () => {
  it("is the same text whatever the order of keys, at every level", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it("leaves out absent values, as JSON does", () => {
    expect(canonicalJson({ reason: undefined })).toBe(canonicalJson({}));
  });
});

describe("a retry judged against what its key remembers", () => {
  it("gets the first answer when it is the same request", () => {
    expect(replayOrConflict(remembered, cancel, "k")).toEqual({ status: 202, body: remembered.body });
  });

  it("is a 422 naming the difference when the body differs", () => {
    const retry = () => replayOrConflict(remembered, { ...cancel, body: { reason: "other" } }, "k");
    expect(retry).toThrow(HttpError);
    expect(retry).toThrow('Idempotency-Key "k" was already used with a different body');
    try {
      retry();
    } catch (error) {
      expect((error as HttpError).status).toBe(422);
    }
  });

  it("is a 422 naming the first request when the route differs", () => {
    expect(() =>
      replayOrConflict(remembered, { ...cancel, route: "/api/v1/threads/th_2/cancel" }, "k"),
    ).toThrow("was already used for POST /api/v1/threads/th_1/cancel, not POST /api/v1/threads/th_2/cancel");
  });
});
