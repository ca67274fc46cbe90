import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The prompts are files in `prompts/`, versioned with the code. They are read once at start-up and
 * hashed; the hash is recorded on every decision, so a decision names the prompt that produced it.
 */

export interface Prompts {
  system: string;
  /** First 12 hex digits of the sha256 of the system prompt. */
  hash: string;
}

/** `prompts/` at the project root; the same relative path from src/agent (tsx, vitest) and dist/agent. */
export const DEFAULT_PROMPTS_DIR = fileURLToPath(new URL("../../prompts/", import.meta.url));

export function promptHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 12);
}

export function loadPrompts(dir: string = DEFAULT_PROMPTS_DIR): Prompts {
  const file = join(dir, "system.md");
  let system: string;
  try {
    system = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new Error(`system prompt ${file} is missing; it ships with deploybot in prompts/system.md`, {
        cause: error,
      });
    }
    throw new Error(`cannot read the system prompt ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (system.trim() === "") throw new Error(`system prompt ${file} is empty`);
  return { system, hash: promptHash(system) };
}
