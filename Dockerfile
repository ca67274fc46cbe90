# syntax=docker/dockerfile:1
# deploybot's container image: TypeScript is compiled in a build stage; the final image holds the
# compiled dist/, the prompts and the production dependencies only, and runs as the unprivileged
# `node` user. docs/operations.md explains how to run it.

ARG NODE_VERSION=22

# Dependencies are installed from the lockfile. better-sqlite3 compiles from source when no prebuilt
# binary can be downloaded, hence the toolchain.
FROM node:${NODE_VERSION}-bookworm-slim AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

FROM toolchain AS build
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM toolchain AS production-dependencies
RUN npm ci --omit=dev && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=3000 \
  DATABASE_URL=sqlite:/app/data/deploybot.sqlite
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json app.yml ./
COPY prompts ./prompts
COPY scripts/prestart.js ./scripts/prestart.js
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is process 1, so SIGTERM reaches deploybot's graceful shutdown (npm start works too).
CMD ["node", "dist/main.js"]
