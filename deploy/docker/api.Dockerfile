# syntax=docker/dockerfile:1
# Hotpath API image. Build from the repository root:
#   docker build -f deploy/docker/api.Dockerfile -t hotpath-api:0.1.0 .
# Stages: manifests (package.json files only, so dependency layers cache across code changes),
# build (all deps + tsc), runtime (production deps + compiled dist, non-root, tini as PID 1).

ARG NODE_IMAGE=node:24.14.0-bookworm-slim

FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
# Keep only what `npm ci` reads: the lockfile, .npmrc and every workspace's package.json (+ bin stubs).
RUN find . -type f ! -name package.json ! -name package-lock.json ! -name .npmrc ! -path '*/bin/*' -delete \
 && find . -type d -empty -delete

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /src/ ./
# --ignore-scripts: the root `prepare` script would build before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
RUN npx tsc -b apps/api \
 && find libs apps -depth \( -name src -o -name '*.tsbuildinfo' \) -exec rm -rf {} +

FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=manifests /src/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/libs ./libs
COPY --from=build /app/apps/api ./apps/api
# The base image's `node` user (uid/gid 1000); numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "apps/api/dist/main.js"]
