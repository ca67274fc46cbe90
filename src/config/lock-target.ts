import type { RepoConfig } from "./repo-config.js";

/**
 * Whether a manual lock names a place of the repository's config: its environment, and its
 * component when it names one. Pure; the same check on every channel.
 */

/** What is wrong with the place, in words that name it and the known names; null when it exists. */
export function lockTargetProblem(
  config: RepoConfig,
  environment: string,
  component: string | null,
): string | null {
  const environments = config.environments.map((e) => e.name);
  if (!environments.includes(environment)) {
    return `unknown environment "${environment}"; this repository has ${environments.join(", ")}`;
  }
  const components = Object.keys(config.components);
  if (component !== null && !components.includes(component)) {
    return `unknown component "${component}"; this repository has ${components.join(", ")}`;
  }
  return null;
}
