import type { Octokit } from "../github/repository.js";
import type { Log } from "../log.js";
import type { SlackPort } from "../slack/client.js";
import type { Store } from "../store/store.js";
import type { Decider } from "./decide.js";

/** What running a thread forward needs: the store, the decider, GitHub, Slack and the clock. */
export interface LoopDeps {
  store: Store;
  decider: Decider;
  octokitFor(installationId: number): Promise<Octokit>;
  clock: () => Date;
  log: Log;
  /** Slack, when SLACK_BOT_TOKEN is set; threads of repositories with a `slack.channel` post there. */
  slack?: SlackPort | null;
  /** The GitHub web address for links, e.g. https://github.com or a GitHub Enterprise Server. */
  githubUrl?: string;
  newId?: () => string;
  /** Whether threads keep a comment on their pull request up to date (needs `pull_requests: write`). */
  prComments?: boolean;
  /**
   * Takes the thread's lease for the work in hand, or throws ThreadBusyError (the worker passes it
   * in; a caller without it, such as a test, owns the thread by construction).
   */
  own?: (threadId: string) => Promise<void>;
  /**
   * The app's installation covering a repository, or null when it is not installed there (asked of
   * GitHub with the app's token when no merge was seen); absent: only repositories seen before.
   */
  installationOf?: (repo: string) => Promise<number | null>;
}
