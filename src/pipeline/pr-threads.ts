/**
 * The store ref that names the newest thread about a pull request besides its merge's own: one
 * started by a `/deploybot` comment on it, or one that deploys its merge commit (started in Slack or
 * through the REST API). PR comment commands find the thread through it.
 */
export function prThreadRef(repo: string, number: number): string {
  return `pr_thread:${repo.toLowerCase()}#${number}`;
}
