import { createSign } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Settings } from "../config/env.js";
import { clip } from "../thread/text.js";
import { type CheckResult, fetchJson, field, unreachable } from "./doctor-check.js";

/** The doctor's GitHub check: the App's private key signs a JWT that GitHub accepts. */

export function privateKeyOf(settings: Settings, cwd: string): string | null {
  const raw = settings.privateKey;
  if (raw) {
    if (raw.includes("-----BEGIN")) return raw.replace(/\\n/g, "\n");
    const decoded = Buffer.from(raw, "base64").toString("utf8");
    return decoded.includes("-----BEGIN") ? decoded : null;
  }
  if (settings.privateKeyPath) {
    return existsSync(settings.privateKeyPath) ? readFileSync(settings.privateKeyPath, "utf8") : null;
  }
  const pems = readdirSync(cwd).filter((f) => f.endsWith(".pem"));
  return pems.length === 1 ? readFileSync(join(cwd, pems[0]!), "utf8") : null;
}

/** A GitHub App JWT (RS256), valid for nine minutes. */
export function appJwt(appId: string, privateKey: string, now: Date): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const iat = Math.floor(now.getTime() / 1000) - 60;
  const unsigned = `${encode({ alg: "RS256", typ: "JWT" })}.${encode({ iat, exp: iat + 600, iss: appId })}`;
  const signature = createSign("RSA-SHA256").update(unsigned).sign(privateKey, "base64url");
  return `${unsigned}.${signature}`;
}

export function githubApiUrl(settings: Settings): string {
  return settings.gheHost
    ? `${settings.gheProtocol ?? "https"}://${settings.gheHost}/api/v3`
    : "https://api.github.com";
}

export async function checkGitHubApp(settings: Settings, cwd: string, now: Date): Promise<CheckResult> {
  const name = "GitHub App";
  if (!settings.appId) {
    return {
      name,
      state: "fail",
      detail: "APP_ID is not set",
      fix: "run npm start once to register the app from app.yml, or set APP_ID and PRIVATE_KEY",
    };
  }
  const key = privateKeyOf(settings, cwd);
  if (!key) {
    return {
      name,
      state: "fail",
      detail: "no private key found",
      fix: "set PRIVATE_KEY (the PEM, or base64 of it) or PRIVATE_KEY_PATH to the key downloaded from the app's settings",
    };
  }
  let jwt: string;
  try {
    jwt = appJwt(settings.appId, key, now);
  } catch (error) {
    return {
      name,
      state: "fail",
      detail: `the private key cannot sign: ${clip(String(error), 160)}`,
      fix: "use the .pem GitHub generated for this app",
    };
  }
  const api = githubApiUrl(settings);
  const headers = {
    authorization: `Bearer ${jwt}`,
    accept: "application/vnd.github+json",
    "user-agent": "deploybot-doctor",
  };
  try {
    const app = await fetchJson(`${api}/app`, { headers });
    if (app.status === 401) {
      return {
        name,
        state: "fail",
        detail: `${api} refused the app's credentials (401)`,
        fix: "check that APP_ID and the private key belong to the same GitHub App, and the machine's clock",
      };
    }
    if (app.status !== 200) {
      return {
        name,
        state: "fail",
        detail: `${api}/app answered ${app.status}`,
        fix: "check GHE_HOST and GHE_PROTOCOL",
      };
    }
    const installations = await fetchJson(`${api}/app/installations?per_page=100`, { headers });
    const count = Array.isArray(installations.body) ? installations.body.length : 0;
    const slug = String(field(app.body, "slug") ?? settings.appId);
    return count === 0
      ? {
          name,
          state: "warn",
          detail: `app ${slug} authenticates but is installed nowhere`,
          fix: "install the app on the repositories it should deploy",
        }
      : { name, state: "ok", detail: `app ${slug}, installed on ${count} account${count === 1 ? "" : "s"}` };
  } catch (error) {
    return unreachable(name, api, error, "check the network, GHE_HOST and GHE_PROTOCOL");
  }
}
