# syntax=docker/dockerfile:1
# Hotpath CPU worker image (onnxruntime-node's bundled CPU build; its CUDA download stays skipped).
# Build from the repository root:
#   docker build -f deploy/docker/worker.Dockerfile -t hotpath-worker:0.1.0 .

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
COPY scripts/build-wasm.mjs ./scripts/
# The WASM engine's kernels (AssemblyScript → libs/model-runtime/dist/wasm) are built as in `npm run build`.
RUN npx tsc -b apps/worker \
 && node scripts/build-wasm.mjs \
 && find libs apps -depth \( -name src -o -name assembly -o -name '*.tsbuildinfo' \) -exec rm -rf {} +

FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=manifests /src/ ./
# onnxruntime-node's postinstall never runs here (--ignore-scripts, and .npmrc says skip): the CPU
# binaries ship inside the npm package, only the CUDA provider libraries would be downloaded.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/libs ./libs
COPY --from=build /app/apps/worker ./apps/worker
# The base image's `node` user (uid/gid 1000); numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "apps/worker/dist/main.js"]
