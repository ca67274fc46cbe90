import { processEnv } from "../config/env.js";
import { followThreads, startDemo } from "./run-demo.js";

/** `npm run demo`: see deploybot work, with simulated GitHub and Slack and nothing to set up. */

const write = (line: string) => process.stdout.write(`${line}\n`);
const workflowMs = Number(processEnv().DEPLOYBOT_DEMO_WORKFLOW_MS ?? "") || undefined;

startDemo({ ...(workflowMs ? { workflowMs } : {}), write })
  .then((demo) => {
    write("");
    write("Open the dashboard (this address signs you in once):");
    write(`  ${demo.signInUrl}`);
    write("");
    write(`The simulated Slack channel: ${demo.slackUrl}`);
    write("Production needs an approval: approve it from the thread page (or in the simulated Slack).");
    write("Then press Enter here to merge a second pull request whose deploy fails, and watch the rollback.");
    write('Type "link" and Enter for a new sign-in address; Ctrl+C stops the demo.');
    write("");
    followThreads(demo.store, write);
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (input: string) => {
      if (input.trim() === "link") {
        void demo.newSignInUrl().then((url) => write(`Sign in: ${url}`));
        return;
      }
      void demo.mergeFailing();
    });
  })
  .catch((error: unknown) => {
    process.stderr.write(
      `the demo could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
