# statearb: the engine and its CLI (statearb run | venue | status | strategy | kill …).
# Node 20 is what the engine runs on; better-sqlite3 ships prebuilt binaries for it, the build
# tools are there for the platforms it does not.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY machines ./machines
COPY config ./config
COPY deploy ./deploy
# State (the SQLite store, paper venues) lives in a volume; never in the image.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
ENTRYPOINT ["node", "bin/statearb.mjs"]
CMD ["run", "--config", "config/paper.yaml", "--data-dir", "/data", "--metrics-port", "9464", "--metrics-host", "0.0.0.0"]
