# Wharf's reference runtime: what the operator runs for each environment by default (WHARF_RUNTIME_IMAGE).
# Build from the repository root:  docker build -f docker/runtime.Dockerfile -t ghcr.io/wharf-dev/wharf-runtime:0.1.0 .
# Stage 1 bundles the runtime into one file with the repository's own bundler (runtime/src/bundle.ts); stage 2 keeps
# only the packages the bundle leaves out (WebAssembly SQLite and jq, and what configs load on demand); the final
# image is that file, those packages and Node, running as an unprivileged user.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS bundle
WORKDIR /src
COPY package.json package-lock.json ./
# npm ci checks the lockfile against every workspace's package.json.
COPY packages/contracts/package.json packages/contracts/
COPY packages/store/package.json packages/store/
COPY packages/source/package.json packages/source/
COPY packages/testkit/package.json packages/testkit/
COPY webhook-app/package.json webhook-app/
COPY reconciler/package.json reconciler/
COPY agent/package.json agent/
COPY runtime/package.json runtime/
COPY cli/package.json cli/
RUN npm ci --workspace runtime --include-workspace-root --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/contracts packages/contracts
COPY runtime runtime
RUN node --import tsx --input-type=module -e "const { ensureRuntimeBundle } = await import('./runtime/src/bundle.ts'); console.log(await ensureRuntimeBundle());"

FROM ${NODE_IMAGE} AS modules
WORKDIR /src
COPY package.json package-lock.json ./
# npm ci checks the lockfile against every workspace's package.json.
COPY packages/contracts/package.json packages/contracts/
COPY packages/store/package.json packages/store/
COPY packages/source/package.json packages/source/
COPY packages/testkit/package.json packages/testkit/
COPY webhook-app/package.json webhook-app/
COPY reconciler/package.json reconciler/
COPY agent/package.json agent/
COPY runtime/package.json runtime/
COPY cli/package.json cli/
RUN npm ci --workspace runtime --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/esbuild node_modules/@esbuild node_modules/@wharf

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="wharf-runtime" \
      org.opencontainers.image.description="Wharf's reference Workflow runtime" \
      org.opencontainers.image.source="https://github.com/wharf-dev/wharf"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=modules --chown=0:0 /src/node_modules /app/node_modules
COPY --from=bundle --chown=0:0 /src/runtime/.build/wharf-runtime.mjs /app/wharf-runtime.mjs
# Numeric, so Kubernetes' runAsNonRoot can check it; owns nothing in the image (the root filesystem is read-only).
USER 10001:10001
EXPOSE 8080
# The operator appends --config … --host 0.0.0.0 --port 8080 --data-dir … --digest …
ENTRYPOINT ["node", "--max-old-space-size=256", "/app/wharf-runtime.mjs"]
