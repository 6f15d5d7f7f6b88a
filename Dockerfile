# The SIP <-> XMPP gateway. Built by `docker compose up --build` (service
# "gateway"); the configuration is mounted at /etc/gateway/gateway.json.

FROM node:20-bookworm-slim AS build
# better-sqlite3 is a native module: when no prebuilt binary can be fetched,
# npm ci compiles it, which needs python3, make and a C++ compiler.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsconfig.json has rootDir "." and outDir "dist": src/main.ts becomes
# dist/src/main.js. Then drop the dev dependencies (typescript, tsx, ...).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The gateway's dataDir in conf/gateway.docker.json; writable by the
# unprivileged "node" user of the base image.
RUN install -d -o node -g node /var/lib/gateway /etc/gateway
USER node
EXPOSE 8080
CMD ["node", "dist/src/main.js", "--config", "/etc/gateway/gateway.json"]
