/**
 * Starts deploybot the way production does, without dev tools: the compiled dist/ with the
 * production dependencies only (`npm ci --omit=dev`, no TypeScript compiler), then `npm start`
 * with throwaway GitHub App credentials, and waits for `GET /healthz`. Run `npm run build` first.
 * Exits 1, with the server's output, when it does not come up.
 */
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FILES = ["package.json", "package-lock.json", "dist", "prompts", "app.yml", "scripts/prestart.js"];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function main(): Promise<number> {
  if (!existsSync("dist/main.js")) throw new Error("dist/main.js is missing: run npm run build first");
  const dir = mkdtempSync(join(tmpdir(), "deploybot-production-"));
  try {
    for (const file of FILES) cpSync(file, join(dir, file), { recursive: true });
    const install = spawnSync("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund"], {
      cwd: dir,
      stdio: "inherit",
    });
    if (install.status !== 0) throw new Error("npm ci --omit=dev failed");
    if (existsSync(join(dir, "node_modules", "typescript")))
      throw new Error("the production install has TypeScript");

    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    writeFileSync(join(dir, "app.pem"), privateKey);
    const port = await freePort();
    const server = spawn("npm", ["start"], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: "production",
        APP_ID: "1",
        PRIVATE_KEY_PATH: join(dir, "app.pem"),
        WEBHOOK_SECRET: "production-smoke-secret",
        HOST: "127.0.0.1",
        PORT: String(port),
        DATABASE_URL: `sqlite:${join(dir, "data", "deploybot.sqlite")}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    server.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      for (let attempt = 0; attempt < 60; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        if (server.exitCode !== null) break;
        try {
          const response = await fetch(`http://127.0.0.1:${port}/healthz`);
          if (response.ok) {
            console.log(`production start answered /healthz: ${await response.text()}`);
            return 0;
          }
        } catch {
          // not listening yet
        }
      }
      console.error(`deploybot did not answer /healthz from a production install:\n${output}`);
      return 1;
    } finally {
      // npm start runs node in its own process group: end the whole group.
      if (server.pid !== undefined && server.exitCode === null) process.kill(-server.pid, "SIGTERM");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(String(error));
    process.exit(1);
  },
);
