# epp-ts container image. Multi-stage:
#   build   — the commands CI runs: `npm ci`, then the TypeScript build (`docker build --target test .` also runs `npm test`)
#   runtime — Node 20 slim, production dependencies only (`npm ci --omit=dev`), the compiled output, non-root.
# Nothing is fetched at run time: the image holds everything the EPP loads.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
COPY workers ./workers
COPY test ./test
COPY bench ./bench
RUN npm run build

FROM build AS test
RUN npm test

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY proto ./proto
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/workers ./dist/workers
# The `node` user of the official image (uid 1000); the chart and manifests also run with runAsNonRoot.
USER 1000:1000
# ext_proc gRPC, gRPC health, Prometheus /metrics
EXPOSE 9002 9003 9090
ENTRYPOINT ["node", "dist/src/main.js"]
