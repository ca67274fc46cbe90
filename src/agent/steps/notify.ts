import { newEvent } from "../../thread/events.js";
import type { Notification } from "../notifications.js";
import { sendNotification } from "../notify.js";
import { record, type StepRun } from "./step-run.js";

/**
 * Posts a Slack notification. The intent is recorded first: a crash after Slack answers leaves it,
 * and the retry looks for the message before posting again.
 */
export async function notifyStep(run: StepRun, notification: Notification): Promise<void> {
  const { deps } = run;
  const { key } = notification;
  const intended = run.view.thread.events.some((e) => e.type === "slack_posting" && e.data.key === key);
  if (!intended) {
    await record(run, [newEvent("slack_posting", { key })]);
    run.intentsHere.add(key);
    return;
  }
  const events = await sendNotification(
    {
      slack: deps.slack!,
      octokitFor: deps.octokitFor,
      githubUrl: deps.githubUrl ?? "https://github.com",
      log: deps.log,
      setRef: (ref, value) => deps.store.setRef(ref, value, deps.clock()),
    },
    run.view,
    notification,
    { recovering: !run.intentsHere.has(key) },
  );
  await record(run, events);
}
