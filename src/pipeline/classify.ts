import picomatch from "picomatch";
import type { RepoConfig } from "../config/repo-config.js";
import type { EventDataOf } from "../thread/events.js";

const FILES_SHOWN_PER_COMPONENT = 20;

/**
 * Sorts a merge's changed files into the configured components. A file may belong to several
 * components; files that match none are counted, so "nothing to deploy" can say why.
 */
export function classifyChanges(
  files: readonly string[],
  config: RepoConfig,
): EventDataOf<"changes_classified"> {
  const matchers = Object.entries(config.components).map(
    ([name, component]) => [name, picomatch(component.paths, { dot: true })] as const,
  );
  const byComponent = new Map<string, string[]>();
  let unmatched = 0;
  for (const file of files) {
    let matched = false;
    for (const [name, isMatch] of matchers) {
      if (isMatch(file)) {
        matched = true;
        const list = byComponent.get(name) ?? [];
        list.push(file);
        byComponent.set(name, list);
      }
    }
    if (!matched) unmatched += 1;
  }
  return {
    files_total: files.length,
    components: matchers
      .filter(([name]) => byComponent.has(name))
      .map(([name]) => {
        const list = byComponent.get(name)!;
        return { name, files: list.slice(0, FILES_SHOWN_PER_COMPONENT), files_total: list.length };
      }),
    unmatched_total: unmatched,
  };
}
