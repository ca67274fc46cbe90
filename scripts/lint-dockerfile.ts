/**
 * Lints the Dockerfile without a Docker engine: dockerfile-utils' validator (the one behind the
 * Dockerfile language server) reports syntax errors, unknown instructions and bad flags. Exits 1
 * with one line per problem.
 */
import { readFileSync } from "node:fs";
import { validate } from "dockerfile-utils";

const file = process.argv[2] ?? "Dockerfile";
const problems = validate(readFileSync(file, "utf8"));
for (const problem of problems) {
  console.error(`${file}:${problem.range.start.line + 1}: ${problem.message}`);
}
if (problems.length > 0) process.exit(1);
console.log(`${file}: no problems`);
