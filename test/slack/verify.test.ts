import { describe, expect, it } from "vitest";
import { signSlackRequest, verifySlackRequest } from "../../src/slack/verify.js";

// Slack's documented test vector ("Verifying requests from Slack").
const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const TIMESTAMP = "1531420618";
const BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const NOW = Number(TIMESTAMP) + 30;

describe("verifying a Slack request", () => {
  it("accepts Slack's documented test vector at its own time", () => {
    expect(verifySlackRequest(SECRET, { timestamp: TIMESTAMP, signature: SIGNATURE }, BODY, NOW)).toEqual({
      ok: true,
    });
  });

  it("signs the test vector to the documented signature", () => {
    expect(signSlackRequest(SECRET, Number(TIMESTAMP), BODY)).toBe(SIGNATURE);
  });

  it("refuses a body changed by one character", () => {
    const result = verifySlackRequest(
      SECRET,
      { timestamp: TIMESTAMP, signature: SIGNATURE },
      `${BODY}x`,
      NOW,
    );
    expect(result).toEqual({ ok: false, reason: "signature does not match: check SLACK_SIGNING_SECRET" });
  });

  it("refuses the right signature with the wrong secret", () => {
    const result = verifySlackRequest(
      `${SECRET}0`,
      { timestamp: TIMESTAMP, signature: SIGNATURE },
      BODY,
      NOW,
    );
    expect(result.ok).toBe(false);
  });

  it("refuses a request older than five minutes, even correctly signed (a replay)", () => {
    const result = verifySlackRequest(
      SECRET,
      { timestamp: TIMESTAMP, signature: SIGNATURE },
      BODY,
      NOW + 301,
    );
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining("5-minute window") });
  });

  it("refuses a timestamp from the future beyond the window", () => {
    const result = verifySlackRequest(
      SECRET,
      { timestamp: TIMESTAMP, signature: SIGNATURE },
      BODY,
      NOW - 400,
    );
    expect(result.ok).toBe(false);
  });

  it("refuses missing or malformed headers", () => {
    expect(verifySlackRequest(SECRET, { timestamp: undefined, signature: SIGNATURE }, BODY, NOW).ok).toBe(
      false,
    );
    expect(verifySlackRequest(SECRET, { timestamp: "12ab", signature: SIGNATURE }, BODY, NOW).ok).toBe(false);
    expect(verifySlackRequest(SECRET, { timestamp: TIMESTAMP, signature: "v1=abc" }, BODY, NOW).ok).toBe(
      false,
    );
  });
});
