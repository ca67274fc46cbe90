import { describe, expect, it } from "vitest";
import { parseRepoConfig } from "../../src/config/repo-config.js";
import { classifyChanges } from "../../src/pipeline/classify.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

const config = parseRepoConfig(CONFIG_YAML);

describe("classifying a merge's changed files", () => {
  it("sorts files into the components whose globs match them", () => {
    const result = classifyChanges(["api/cart.ts", "server/main.go", "web/app.tsx", "README.md"], config);
    expect(result).toEqual({
      files_total: 4,
      components: [
        { name: "backend", files: ["api/cart.ts", "server/main.go"], files_total: 2 },
        { name: "frontend", files: ["web/app.tsx"], files_total: 1 },
      ],
      unmatched_total: 1,
    });
  });

  it("finds no component when only unrelated files changed", () => {
    const result = classifyChanges(["docs/a.md", ".github/workflows/ci.yml"], config);
    expect(result.components).toEqual([]);
    expect(result.unmatched_total).toBe(2);
  });

  it("matches dotfiles inside a component", () => {
    expect(classifyChanges(["web/.env.production"], config).components.map((c) => c.name)).toEqual([
      "frontend",
    ]);
  });

  it("keeps at most twenty file names per component but counts them all", () => {
    const files = Array.from({ length: 45 }, (_, i) => `api/file${i}.ts`);
    const [backend] = classifyChanges(files, config).components;
    expect(backend?.files).toHaveLength(20);
    expect(backend?.files_total).toBe(45);
  });
});
