import { describe, expect, it } from "vitest";
import { parseRepoConfig, RepoConfigError } from "../../src/config/repo-config.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

/** CONFIG_YAML with these lines added to production (after its approval_expires_after). */
function withProduction(lines: string): string {
  return CONFIG_YAML.replace(
    "    approval_expires_after: 24h\n",
    `    approval_expires_after: 24h\n${lines}`,
  );
}

function problemsOf(text: string): string[] {
  try {
    parseRepoConfig(text);
  } catch (error) {
    if (error instanceof RepoConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the config to be invalid");
}

const SAFE = withProduction(`    approvals_required: 2
    break_glass: [octocat, U0ONCALL, api:oncall]
    windows:
      - days: [mon, tue, wed, thu, fri]
        hours: "09:00-17:00"
        time_zone: Europe/Berlin
    freezes:
      - from: "2026-12-20T00:00:00+01:00"
        to: "2027-01-04T09:00:00+01:00"
        reason: Year-end freeze
    when_closed: approval
`).replace("  - name: staging\n", "  - name: staging\n    bake: 15m\n    verify: verify-staging.yml\n");

describe("the deploy-safety settings", () => {
  it("default to no restriction", () => {
    const [staging] = parseRepoConfig(CONFIG_YAML).environments;
    expect(staging).toMatchObject({
      approvals_required: 1,
      break_glass: [],
      freezes: [],
      when_closed: "wait",
    });
    expect(staging?.windows).toBeUndefined();
    expect(staging?.bake).toBeUndefined();
    expect(staging?.verify).toBeUndefined();
  });

  it("read every field of a full example", () => {
    const [staging, production] = parseRepoConfig(SAFE).environments;
    expect(staging).toMatchObject({ bake: 15 * 60_000, verify: "verify-staging.yml" });
    expect(production).toMatchObject({
      approvals_required: 2,
      break_glass: ["octocat", "U0ONCALL", "api:oncall"],
      windows: [
        { days: ["mon", "tue", "wed", "thu", "fri"], hours: "09:00-17:00", time_zone: "Europe/Berlin" },
      ],
      freezes: [{ reason: "Year-end freeze" }],
      when_closed: "approval",
    });
  });

  it("name an unknown day, bad hours and an unknown time zone", () => {
    const text = SAFE.replace("[mon, tue,", "[monday, tue,")
      .replace('"09:00-17:00"', '"9-17"')
      .replace("Europe/Berlin", "Europe/Berln");
    expect(problemsOf(text)).toEqual([
      'environments[1].windows[0].days[0]: unknown day "monday": use mon, tue, wed, thu, fri, sat, sun',
      'environments[1].windows[0].hours: expected hours such as "09:00-17:00" (24-hour clock, end exclusive, up to 24:00)',
      'environments[1].windows[0].time_zone: unknown time zone "Europe/Berln": use an IANA name such as Europe/Berlin or UTC',
    ]);
  });

  it("refuse a window that starts and ends at the same time, and one past 24:00", () => {
    expect(problemsOf(SAFE.replace('"09:00-17:00"', '"09:00-09:00"'))).toEqual([
      "environments[1].windows[0].hours: the window starts and ends at the same time: give a range such as 09:00-17:00",
    ]);
    expect(problemsOf(SAFE.replace('"09:00-17:00"', '"09:00-24:30"'))).toEqual([
      "environments[1].windows[0].hours: a window ends at 24:00 at the latest",
    ]);
  });

  it("accept a window that wraps midnight and one that ends at 24:00", () => {
    expect(() => parseRepoConfig(SAFE.replace('"09:00-17:00"', '"22:00-06:00"'))).not.toThrow();
    expect(() => parseRepoConfig(SAFE.replace('"09:00-17:00"', '"00:00-24:00"'))).not.toThrow();
  });

  it("refuse a freeze that ends before it starts, and a time without an offset", () => {
    expect(
      problemsOf(SAFE.replace('to: "2027-01-04T09:00:00+01:00"', 'to: "2026-12-19T09:00:00+01:00"')),
    ).toEqual(["environments[1].freezes[0].to: the freeze ends before it starts: to must be after from"]);
    expect(problemsOf(SAFE.replace('from: "2026-12-20T00:00:00+01:00"', 'from: "2026-12-20"'))).toEqual([
      "environments[1].freezes[0].from: expected an ISO 8601 time with an offset, such as 2026-12-20T00:00:00+01:00",
    ]);
  });

  it("refuse a break_glass entry that names a team or a user group", () => {
    expect(problemsOf(SAFE.replace("api:oncall]", "acme/oncall]"))).toEqual([
      "environments[1].break_glass[2]: expected a GitHub login (octocat), a Slack user id (U…/W…) or api:<token name>; teams and user groups cannot break glass",
    ]);
  });

  it("refuse approvals_required out of range", () => {
    expect(problemsOf(SAFE.replace("approvals_required: 2", "approvals_required: 0"))).toEqual([
      "environments[1].approvals_required: at least 1 approval",
    ]);
    expect(problemsOf(SAFE.replace("approvals_required: 2", "approvals_required: 1.5"))).toEqual([
      "environments[1].approvals_required: expected a whole number of approvals",
    ]);
  });

  it("refuse a quorum where nothing asks for approval", () => {
    const text = CONFIG_YAML.replace("  - name: staging\n", "  - name: staging\n    approvals_required: 2\n");
    expect(problemsOf(text)).toEqual([
      "environments[0].approvals_required: 2 approvals asked, but nothing here needs approval: set approval: required (or rollback_approval: required, or when_closed: approval), or remove approvals_required",
    ]);
  });

  it("refuse a quorum that the listed approvers can never reach, counting a mapped login once", () => {
    // octocat is U01OCTOCAT in users:, so two entries name one person.
    const text = CONFIG_YAML.replace("[U01APPROVER, S01RELEASETEAM]", "[U01OCTOCAT]").replace(
      "    approval_expires_after: 24h\n",
      "    approval_expires_after: 24h\n    github_approvers: [octocat]\n    approvals_required: 2\n",
    );
    expect(problemsOf(text)).toEqual([
      "environments[1].approvals_required: 2 distinct approvers needed, but approvers and github_approvers name only 1 person (a login mapped by users: to a listed Slack id is one person): list more approvers or lower approvals_required",
    ]);
  });

  it("accept a quorum larger than the list when a user group or team may supply it", () => {
    expect(() =>
      parseRepoConfig(SAFE.replace("approvals_required: 2", "approvals_required: 5")),
    ).not.toThrow();
  });

  it("refuse when_closed: approval without anyone to approve", () => {
    const text = CONFIG_YAML.replace("  - name: staging\n", "  - name: staging\n    when_closed: approval\n");
    expect(problemsOf(text)).toEqual([
      "environments[0].when_closed: when_closed: approval needs at least one approver (in approvers or github_approvers) to approve a deploy outside the windows",
    ]);
  });

  it("refuse never as a bake time and a verify that is not a workflow file", () => {
    const text = SAFE.replace("bake: 15m", "bake: never").replace(
      "verify: verify-staging.yml",
      "verify: smoke",
    );
    expect(problemsOf(text)).toEqual([
      "environments[0].bake: expected a duration such as 15m or 1h (never is not a bake time)",
      "environments[0].verify: expected a workflow file name such as deploy-backend.yml",
    ]);
  });
});
