import { readFileSync } from "node:fs";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { EnvSchema } from "../../src/config/env.js";

/**
 * The container files are checked without a Docker engine: `npm run lint` runs dclint (the compose
 * schema and its rules) and dockerfile-utils' validator; these tests hold what the image and the
 * compose file must do.
 */

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

function stagesOf(file: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(readFileSync(file, "utf8")).getInstructions()) {
    if (instruction.getKeyword() === "FROM") {
      const [from, as, name] = instruction.getArguments().map((a) => a.getValue());
      stages.push({ from: from!, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

const argumentsOf = (stage: Stage, keyword: string) =>
  stage.instructions
    .filter((i) => i.getKeyword() === keyword)
    .map((i) => i.getTextContent().replace(/^\s*\w+\s+/, ""));

describe("the Dockerfile", () => {
  const stages = stagesOf("Dockerfile");
  const final = stages.at(-1)!;

  it("builds in separate stages and keeps the compiler out of the final image", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((s) => argumentsOf(s, "RUN").some((run) => run.includes("npm run build")));
    expect(build).toBeDefined();
    expect(build).not.toBe(final);
    expect(argumentsOf(final, "RUN").join("\n")).not.toMatch(/npm (ci|install)(?! .*--omit=dev)/);
  });

  it("installs dependencies from the lockfile, and only the production ones for the final image", () => {
    const runs = stages.flatMap((s) => argumentsOf(s, "RUN"));
    expect(runs.some((run) => /\bnpm ci\b/.test(run))).toBe(true);
    expect(runs.join("\n")).not.toMatch(/\bnpm install\b/);
    const modules = argumentsOf(final, "COPY").find((copy) => copy.includes("node_modules"));
    const source = /--from=(\S+)/.exec(modules ?? "")?.[1];
    const dependencies = stages.find((s) => s.name === source);
    expect(argumentsOf(dependencies!, "RUN").join("\n")).toMatch(/npm ci --omit=dev/);
    expect(argumentsOf(final, "COPY").join("\n")).toMatch(/--from=\S+ \/app\/dist/);
  });

  it("runs as an unprivileged user, listening on every interface", () => {
    const user = argumentsOf(final, "USER").at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(argumentsOf(final, "ENV").join(" ")).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(argumentsOf(final, "ENV").join(" ")).toMatch(/\bNODE_ENV=production\b/);
  });

  it("checks its health on /healthz and starts the compiled server", () => {
    expect(argumentsOf(final, "HEALTHCHECK").join("\n")).toMatch(/\/healthz/);
    expect(argumentsOf(final, "CMD").at(-1)).toMatch(/dist\/main\.js/);
  });

  it("never copies local secrets or state into the image", () => {
    const ignored = readFileSync(".dockerignore", "utf8").split("\n");
    for (const entry of [".env", "*.pem", "data/", "node_modules/"]) expect(ignored).toContain(entry);
  });
});

const Compose = z.object({
  services: z.record(
    z.string(),
    z.object({
      image: z.string().optional(),
      build: z.unknown().optional(),
      deploy: z.object({ replicas: z.number() }).partial().optional(),
      environment: z.record(z.string(), z.string()).optional(),
      depends_on: z.unknown().optional(),
      ports: z.array(z.string()).optional(),
      volumes: z.array(z.string()).optional(),
    }),
  ),
});

describe("the compose file", () => {
  const compose = Compose.parse(parse(readFileSync("compose.yaml", "utf8")));
  const { deploybot, postgres, proxy } = compose.services;

  it("runs two deploybot replicas on one PostgreSQL", () => {
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(deploybot?.build).toBe(".");
    expect(deploybot?.deploy?.replicas).toBe(2);
    expect(deploybot?.environment?.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    expect(deploybot?.depends_on).toMatchObject({ postgres: { condition: "service_healthy" } });
  });

  it("publishes only the reverse proxy, which forwards to the replicas and hides /metrics", () => {
    expect(deploybot?.ports).toBeUndefined();
    expect(postgres?.ports).toBeUndefined();
    expect(proxy?.ports).toHaveLength(1);
    const caddyfile = readFileSync("deploy/Caddyfile", "utf8");
    expect(proxy?.volumes).toContain("./deploy/Caddyfile:/etc/caddy/Caddyfile:ro");
    expect(caddyfile).toMatch(/dynamic a deploybot 3000/);
    expect(caddyfile).toMatch(/respond \/metrics 404/);
  });

  it("sets only variables deploybot reads", () => {
    const known = Object.keys(EnvSchema.shape);
    for (const name of Object.keys(deploybot?.environment ?? {})) expect(known, name).toContain(name);
    const imageEnv = argumentsOf(stagesOf("Dockerfile").at(-1)!, "ENV").join(" ");
    for (const [, name] of imageEnv.matchAll(/\b([A-Z_]+)=/g)) expect(known, name).toContain(name);
  });

  it("requires the GitHub App's credentials instead of starting without them", () => {
    for (const name of ["APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET"]) {
      expect(deploybot?.environment?.[name]).toMatch(new RegExp(`^\\$\\{${name}:\\?`));
    }
  });
});
