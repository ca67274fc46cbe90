// Runs before `npm start`. In a checkout with the dev dependencies installed it compiles src/ into
// dist/, so `npm install && npm start` always runs the current code. A production install
// (`npm ci --omit=dev` of a built package, or the container image) has no TypeScript compiler: there
// it only checks that the compiled dist/ is present, and never needs a dev tool.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import console from "node:console";
import process from "node:process";

const require = createRequire(import.meta.url);

function compilerPath() {
  try {
    return require.resolve("typescript/bin/tsc");
  } catch {
    return null;
  }
}

const tsc = compilerPath();
if (tsc && existsSync("tsconfig.build.json")) {
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}
if (!existsSync("dist/main.js")) {
  console.error(
    "deploybot is not built: dist/main.js is missing and the TypeScript compiler is not installed. " +
      "Run `npm install` (with the dev dependencies) and `npm run build`, then start again.",
  );
  process.exit(1);
}
