import { sampleSha, type SamplePullRequest } from "./github-repo-model.js";

/** The demo's sample repository: two components, staging then production (which needs approval). */

export const DEMO_OWNER = "demo-org";
export const DEMO_REPO = "shop";
export const DEMO_INSTALLATION_ID = 1;
export const DEMO_APP_ID = 1;
export const DEMO_CHANNEL = "C0DEPLOYS";
export const DEMO_APPROVER = { id: "U0APPROVER", name: "release-manager" };

export const DEMO_CONFIG_YAML = `branch: main
components:
  backend:
    paths: ["api/**"]
    workflow: deploy-backend.yml
  frontend:
    paths: ["web/**"]
    workflow: deploy-frontend.yml
environments:
  - name: staging
  - name: production
    approval: required
    approvers: [${DEMO_APPROVER.id}, api:demo]
    approval_expires_after: 24h
    break_glass: [${DEMO_APPROVER.id}, api:demo]
slack:
  channel: ${DEMO_CHANNEL}
users:
  alice: U0ALICE
`;

/** The first merge: both components change; everything deploys, production after an approval. */
export const FIRST_PULL: SamplePullRequest = {
  number: 1,
  title: "Add a loyalty discount to the checkout",
  body: "Members get 5% off. Backend computes the discount, the cart shows it.",
  author: "alice",
  files: ["api/discount.ts", "api/checkout.ts", "web/cart.tsx"],
  commit: {
    sha: sampleSha("demo: loyalty discount"),
    message: "Add a loyalty discount to the checkout (#1)",
  },
};

/** The second merge: the backend's deploy fails in staging, and deploybot rolls it back. */
export const FAILING_PULL: SamplePullRequest = {
  number: 2,
  title: "Move prices to cents",
  body: "Stores prices as integer cents.",
  author: "alice",
  files: ["api/prices.ts"],
  commit: {
    sha: sampleSha("demo: prices in cents"),
    message: "Move prices to cents (#2)",
    failsIn: { backend: ["staging"] },
    failureLog: [
      "Running migration 042_prices_in_cents",
      'ERROR: column "price_cents" of relation "products" already exists',
      "Error: Process completed with exit code 1.",
    ],
  },
};
