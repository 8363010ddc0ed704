#!/usr/bin/env bash
# Issue #19: the README's commands work from a folder only its owner can enter (as root, the
# embedded PostgreSQL runs as the "postgres" user, who cannot enter /root or any mktemp -d).
# Clones this repository's HEAD into a mode-700 folder, gives it node_modules, then checks that
#  - `npm start` answers GET /ping 200 (as root: with its data moved where postgres reaches it);
#  - the embedded test database starts: jest's global setup, then test/health.e2e-spec.ts.
# node_modules: hard links to this checkout's (the same lock; seconds instead of minutes of
# npm ci on a loaded CI machine), or a real `npm ci` with PRIVATE_CHECK_NPM_CI=1 or when this
# checkout has none. Run by .ci/run; everything it starts and writes is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

dir=$(mktemp -d)
chmod 700 "$dir"
clone="$dir/portal-api"
server=""
status_step="clone"

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); })'
}
cleanup() {
  local status=$?
  set +e
  if [[ -n $server ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM -- "-$server" 2>/dev/null
    sleep 5
    kill -KILL -- "-$server" 2>/dev/null
  fi
  if ((status != 0)); then
    echo "private folder check FAILED during: $status_step" >&2
    for log in "$dir"/*.log; do
      [[ -f $log ]] || continue
      echo "----- $(basename "$log") (last 40 lines)" >&2
      tail -n 40 "$log" >&2
    done
  fi
  # The cluster npm start placed for this clone (as root: under /var/tmp), and its note.
  for origin in /var/tmp/portal-api-embedded-postgres/*.origin; do
    [[ -f $origin ]] || continue
    if [[ $(cat "$origin") == "$clone/data/postgres" ]]; then rm -rf "${origin%.origin}" "$origin"; fi
  done
  rm -rf "$dir"
  exit "$status"
}
trap cleanup EXIT

git clone --quiet --no-checkout . "$clone"
git -C "$clone" checkout --quiet "$(git rev-parse HEAD)"
echo "clone of $(git rev-parse --short HEAD) in $clone (mode $(stat -c %a "$dir"), as $(id -un))"
cd "$clone"

status_step="node_modules"
if [[ ${PRIVATE_CHECK_NPM_CI:-} == 1 || ! -d $src/node_modules ]]; then
  npm ci --no-progress --prefer-offline --no-audit --no-fund >"$dir/npm-ci.log" 2>&1
  echo "npm ci: done"
else
  cp -al "$src/node_modules" node_modules 2>/dev/null || cp -a "$src/node_modules" node_modules
  echo "node_modules: linked from $src"
fi

status_step="npm start"
port=$(free_port)
pg_port=$(free_port)
# A session of its own, so the whole npm start tree can be signalled at the end.
setsid env PORT="$port" EMBEDDED_PG_PORT="$pg_port" npm start >"$dir/npm-start.log" 2>&1 &
server=$!
ping=""
for _ in $(seq 1 240); do
  kill -0 "$server" 2>/dev/null || { echo "npm start exited" >&2; exit 1; }
  ping=$(curl -s -m 2 -w ' %{http_code}' "http://127.0.0.1:$port/ping" || true)
  [[ $ping == *' 200' ]] && break
  sleep 0.5
done
[[ $ping == '{"status":"ok"} 200' ]] || { echo "GET /ping answered '$ping'" >&2; exit 1; }
echo "npm start: GET /ping -> $ping"
grep -o 'embedded PostgreSQL on port [0-9]*, data in [^"]*' "$dir/npm-start.log"
kill -TERM -- "-$server"
wait "$server" || true
server=""

status_step="embedded test database (jest global setup + test/health.e2e-spec.ts)"
npx jest test/health.e2e-spec.ts >"$dir/jest.log" 2>&1
grep -E '^Tests:' "$dir/jest.log"
echo "private folder check: passed"
