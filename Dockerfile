# The application image: the API, the workers and the scheduler, one image for all three; the
# role comes from ROLES (api | workers | scheduler, services/config.ts) set on each workload.
# Infra runs it as `<repo>:<tag>` (the git SHA), as uid 10001 with a read-only root filesystem and
# only /tmp writable (an emptyDir), so nothing below writes anywhere else at runtime:
#   - the tsx loader caches its transforms in $TMPDIR (/tmp/tsx-10001);
#   - npm/npx (the migration Job's `npx prisma migrate deploy`) log and cache under /tmp/.npm;
#   - the Prisma client is generated here, at build time (services/db/generated);
#   - local image storage, if ever used instead of S3, goes to /tmp/images;
#   - PGlite is never used: production requires DATABASE_URL (services/config.ts).
# tests/delivery/ checks every rule of this file (base digest, stages, user, labels, COPYs, the
# commands Kubernetes runs) and boots it from the files it copies, read-only, as uid 10001.
#
# Build (deploy.yml does this): docker buildx build --build-arg GIT_SHA=$(git rev-parse HEAD) .

# Every stage starts from node:20-bookworm-slim pinned by digest, written out in each FROM so that
# Dependabot's docker ecosystem (which does not expand ARGs in FROM) proposes new digests for all.

# ---- deps: production dependencies only, exactly the lockfile's, no install scripts (npm 11 runs
# none either; nothing here relies on one). `prisma` and `tsx` are in: tsx is a dependency (the
# services run with `node --import tsx`), and npm keeps the Prisma CLI as @prisma/client's optional
# peer. The tools/prisma-sql workspace (an offline SQL renderer for development) stays out.
FROM node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0 AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --workspaces=false --no-audit --no-fund \
 && npm cache clean --force

# ---- prisma: the generated client and Prisma's native schema engine.
# `prisma generate` runs offline (WASM). `prisma migrate deploy` needs the native schema engine,
# which the CLI downloads from binaries.prisma.sh for the platform it runs on: this stage, which has
# network access at build time, runs the Prisma CLI once (`prisma --version` makes it fetch the
# engine into node_modules/@prisma/engines), checks that the engine runs here, and records its path
# in PRISMA_SCHEMA_ENGINE_BINARY below, so the migration Job never downloads anything.
FROM deps AS prisma
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/prisma-generate.mjs ./scripts/prisma-generate.mjs
RUN node scripts/prisma-generate.mjs --force
RUN CHECKPOINT_DISABLE=1 node node_modules/prisma/build/index.js --version \
 && engine="$(find node_modules/@prisma/engines -maxdepth 1 -type f -name 'schema-engine-*' ! -name '*.gz' ! -name '*.sha256' | head -n 1)" \
 && test -n "$engine" \
 && "$engine" --version \
 && ln -s "$(basename "$engine")" node_modules/@prisma/engines/schema-engine

# ---- the image that runs
FROM node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0 AS app
ARG GIT_SHA=unknown
ARG SOURCE_URL=https://github.com/acme/product-platform
LABEL org.opencontainers.image.title="product-platform" \
      org.opencontainers.image.description="The product pipeline: API, workers and scheduler (ROLES)" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.version="${GIT_SHA}" \
      org.opencontainers.image.base.name="docker.io/library/node:20-bookworm-slim"
# tini is PID 1: it forwards SIGTERM to node (whose handler drains in-flight work within
# SHUTDOWN_DEADLINE_MS) and reaps zombies. openssl: the schema engine links libssl.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini openssl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin app
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    NPM_CONFIG_CACHE=/tmp/.npm \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_OFFLINE=true \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    PRISMA_SCHEMA_ENGINE_BINARY=/app/node_modules/@prisma/engines/schema-engine \
    STORAGE_DIR=/tmp/images
WORKDIR /app
# Everything is owned by root and read-only to the app user.
COPY --from=prisma /app/node_modules ./node_modules
COPY --from=prisma /app/services/db/generated ./services/db/generated
COPY package.json package-lock.json tsconfig.json prisma.config.ts ./
COPY prisma ./prisma
COPY model ./model
COPY services ./services
USER 10001:10001
EXPOSE 8080 9464
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "services/main.ts"]
