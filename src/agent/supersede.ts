/**
 * When a lock frees up, merges queued for it are compared: a newer merge whose change set covers an
 * older one's (the deploy branch's history is linear, so it contains the older changes) makes the
 * older deploy pointless. Deploying it anyway would ship stale code first. Pure.
 */

export interface QueuedMerge {
  threadId: string;
  createdAt: string;
  number: number;
  mergeSha: string;
  components: string[];
}

export function supersessions(queued: readonly QueuedMerge[]): { older: QueuedMerge; newer: QueuedMerge }[] {
  const byAge = [...queued].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.number - b.number);
  const result: { older: QueuedMerge; newer: QueuedMerge }[] = [];
  byAge.forEach((older, index) => {
    const newer = byAge
      .slice(index + 1)
      .reverse()
      .find((candidate) => older.components.every((c) => candidate.components.includes(c)));
    if (newer) result.push({ older, newer });
  });
  return result;
}
