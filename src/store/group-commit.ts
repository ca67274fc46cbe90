/**
 * Group commit: items submitted within `windowMs` of each other are committed together, in one
 * durable transaction, and each submitter's promise settles only after that commit. Commits run one
 * at a time; what arrives meanwhile joins the next one. When a batch fails, each of its items is
 * committed alone, so an error fails only the submitters whose items fail.
 */

export interface GroupCommitOptions<T, R> {
  /** Commits the items in one transaction and returns one result per item, in order. */
  commit: (items: readonly T[]) => Promise<readonly R[]>;
  /** How long the first item of a batch waits for others. */
  windowMs?: number;
  maxBatch?: number;
}

interface Waiter<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T, R> {
  private readonly commit: GroupCommitOptions<T, R>["commit"];
  private readonly windowMs: number;
  private readonly maxBatch: number;
  private pending: Waiter<T, R>[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private committing: Promise<void> = Promise.resolve();

  constructor(options: GroupCommitOptions<T, R>) {
    this.commit = options.commit;
    this.windowMs = options.windowMs ?? 1;
    this.maxBatch = options.maxBatch ?? 100;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  /** Commits what is pending now and waits until every commit under way has settled. */
  async drain(): Promise<void> {
    this.flush();
    await this.committing;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.committing = this.committing.then(() => this.commitPending());
  }

  private async commitPending(): Promise<void> {
    while (this.pending.length > 0) await this.commitBatch(this.pending.splice(0, this.maxBatch));
  }

  private async commitBatch(batch: Waiter<T, R>[]): Promise<void> {
    let results: readonly R[];
    try {
      results = await this.commit(batch.map((w) => w.item));
      if (results.length !== batch.length) {
        throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
      }
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      for (const waiter of batch) await this.commitBatch([waiter]);
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
  }
}
