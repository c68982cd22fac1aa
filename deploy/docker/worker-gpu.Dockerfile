# syntax=docker/dockerfile:1
# Hotpath GPU worker image: NVIDIA CUDA 12 + cuDNN 9 runtime, Node 24, and onnxruntime-node with its
# CUDA 12 execution provider libraries (see docs/gpu.md). linux/amd64 only: onnxruntime-node ships CUDA
# provider binaries for linux/x64 alone. Build from the repository root:
#   docker build --platform linux/amd64 -f deploy/docker/worker-gpu.Dockerfile -t hotpath-worker-gpu:0.1.0 .

ARG NODE_IMAGE=node:24.14.0-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

FROM ${NODE_IMAGE} AS node

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

# Production dependencies plus the CUDA switch. npm ci runs no install scripts (and .npmrc says
# `onnxruntime-node-install=skip` for CPU machines), so the installer runs explicitly; the
# ONNXRUNTIME_NODE_INSTALL environment variable takes precedence over the .npmrc setting. It downloads
# libonnxruntime_providers_{cuda,shared,tensorrt}.so (Microsoft.ML.OnnxRuntime.Gpu.Linux, NuGet)
# into node_modules/onnxruntime-node/bin/napi-v6/linux/x64/ and fails the build if it cannot.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=manifests /src/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so \
 && npm cache clean --force

FROM ${CUDA_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && (getent group 1000 || groupadd --gid 1000 hotpath) \
 && (getent passwd 1000 || useradd --uid 1000 --gid 1000 --no-create-home --shell /usr/sbin/nologin hotpath)
# Node 24 from the official image: one static toolchain for every Hotpath image, no extra apt repository.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production \
    METRICS_PORT=9464 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /app
COPY --from=prod-deps /app/ ./
COPY --from=build /app/libs ./libs
COPY --from=build /app/apps/worker ./apps/worker
USER 1000:1000
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=3s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "apps/worker/dist/main.js"]
