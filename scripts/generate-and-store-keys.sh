#!/usr/bin/env bash
# Generates the ES256 signing keys of portal-api's access tokens and stores them in AWS Secrets
# Manager as the key set JWT_SIGNING_KEYS_SECRET_ID names (format: docs/security.md). Private
# keys are never printed, never put on a command line (ps shows those), and only exist on disk
# in private temporary files that are removed on exit. Key ids (public) are printed.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/generate-and-store-keys.sh --secret-id NAME [--rotate | --replace]
         [--keep N] [--region REGION] [--kms-key-id KEY] [--dry-run]

Makes EC P-256 key pairs (kid: the RFC 7638 thumbprint) and stores the key set
{"current": kid, "keys": [JWK, ...]} as a new version of the secret NAME. The API reads it at
start when JWT_SIGNING_KEYS_SECRET_ID=NAME.

  (no mode)     the secret must not exist yet: create it with a current key and a staged next
                key (both new)
  --rotate      promote the staged next key to current, keep the old current key's public part,
                stage a new next key. Every task already trusts the promoted key, so a fleet
                mid-deploy keeps working. A set without a staged key gets one staged only: run
                --rotate again after that deploy.
  --replace     start over with a new set, dropping every old key (access tokens signed before
                stop verifying; clients refresh)
  --keep N      previous public keys kept by --rotate (1..8, default 2): the old current key
                must stay until no task signs with it and its last tokens (15 minutes) expire
  --secret-id   Secrets Manager name or ARN, e.g. portal-api/prod/jwt-signing-keys
  --region      AWS region (default: the aws CLI's)
  --kms-key-id  KMS key for a new secret (default: aws/secretsmanager)
  --dry-run     generate and check a key set, but call no AWS API and store nothing

Needs node (20+), and the aws CLI with secretsmanager:DescribeSecret, PutSecretValue,
GetSecretValue (--rotate) and, for a new secret, CreateSecret. Running tasks keep the keys
they read at start: deploy (or aws ecs update-service --force-new-deployment) afterwards.
USAGE
}

die() {
  echo "generate-and-store-keys: $*" >&2
  exit 1
}

usage_error() {
  echo "generate-and-store-keys: $*" >&2
  echo >&2
  usage >&2
  exit 2
}

secret_id=""
region=""
kms_key_id=""
mode="create"
keep=2
dry_run=false

while [ $# -gt 0 ]; do
  case "$1" in
    --secret-id | --region | --kms-key-id | --keep)
      [ $# -ge 2 ] || usage_error "$1 needs a value"
      case "$1" in
        --secret-id) secret_id="$2" ;;
        --region) region="$2" ;;
        --kms-key-id) kms_key_id="$2" ;;
        --keep) keep="$2" ;;
      esac
      shift 2
      ;;
    --rotate | --replace)
      [ "$mode" = create ] || usage_error "give --rotate or --replace, not both"
      mode="${1#--}"
      shift
      ;;
    --dry-run)
      dry_run=true
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done

[ -n "$secret_id" ] || usage_error "--secret-id is required"
case "$keep" in
  '' | *[!0-9]*) usage_error "--keep must be a number" ;;
esac
if [ "$keep" -lt 1 ] || [ "$keep" -gt 8 ]; then
  usage_error "--keep must be 1..8"
fi

command -v node >/dev/null 2>&1 || die "node is not installed"
if [ "$dry_run" = false ]; then
  command -v aws >/dev/null 2>&1 || die "the aws CLI is not installed"
fi

umask 077
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
old_file="$workdir/old"
new_file="$workdir/keys.json"

# Builds the new key set from the old one (if any). Reads and writes files only; prints kids.
keyset() {
  node - "$1" "$old_file" "$new_file" "$keep" <<'JS'
const crypto = require('node:crypto');
const fs = require('node:fs');
const [mode, oldPath, newPath, keepText] = process.argv.slice(2);
const keep = Number(keepText);
const fail = (m) => { console.error(`generate-and-store-keys: ${m}`); process.exit(1); };

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y, d } = privateKey.export({ format: 'jwk' });
  const kid = crypto.createHash('sha256')
    .update(JSON.stringify({ crv: 'P-256', kty: 'EC', x, y }))
    .digest('base64url');
  return { kty: 'EC', crv: 'P-256', x, y, d, kid, alg: 'ES256', use: 'sig' };
}
const publicPart = ({ d, ...rest }) => rest;

let set;
if (mode === 'rotate') {
  let old;
  try {
    old = JSON.parse(fs.readFileSync(oldPath, 'utf8'));
  } catch {
    fail('the secret does not hold a key set (not JSON); use --replace to start over');
  }
  const keys = Array.isArray(old && old.keys) ? old.keys : fail('the secret has no "keys" array');
  const privates = keys.filter((k) => k && typeof k.d === 'string');
  const currentKid = old.current ?? (privates.length === 1 ? privates[0].kid : undefined);
  const current = keys.find((k) => k && k.kid === currentKid && typeof k.d === 'string');
  if (!current) fail('the key set names no current private key; use --replace to start over');
  const staged = privates.find((k) => k.kid !== current.kid);
  const previous = keys.filter((k) => k && k.kid !== current.kid && (!staged || k.kid !== staged.kid));
  if (staged) {
    const next = newKey();
    const kept = [publicPart(current), ...previous.map(publicPart)].slice(0, keep);
    set = { current: staged.kid, keys: [staged, next, ...kept] };
    console.log(`current: ${staged.kid} (was staged)`);
    console.log(`next:    ${next.kid} (new, staged)`);
    console.log(`kept:    ${kept.map((k) => k.kid).join(', ') || 'none'} (public only)`);
  } else {
    const next = newKey();
    set = { current: current.kid, keys: [current, next, ...previous.map(publicPart).slice(0, keep)] };
    console.log(`current: ${current.kid} (unchanged: the set had no staged key)`);
    console.log(`next:    ${next.kid} (new, staged)`);
    console.log('deploy this, then run --rotate again to sign with the staged key');
  }
} else {
  const [current, next] = [newKey(), newKey()];
  set = { current: current.kid, keys: [current, next] };
  console.log(`current: ${current.kid} (new)`);
  console.log(`next:    ${next.kid} (new, staged)`);
}
fs.writeFileSync(newPath, JSON.stringify(set), { mode: 0o600 });
JS
}

aws_args=()
if [ -n "$region" ]; then
  aws_args+=(--region "$region")
fi
aws_sm() {
  aws ${aws_args[@]+"${aws_args[@]}"} secretsmanager "$@"
}

if [ "$dry_run" = true ]; then
  keyset create >/dev/null
  count="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).keys.length)' "$new_file")"
  echo "dry run: generated a key set of ${count} P-256 keys (not shown)"
  echo "dry run: would ${mode} ${secret_id}; nothing was read or stored"
  exit 0
fi

describe_err="$workdir/describe.err"
if aws_sm describe-secret --secret-id "$secret_id" --query ARN --output text \
  >/dev/null 2>"$describe_err"; then
  exists=true
elif grep -q ResourceNotFoundException "$describe_err"; then
  exists=false
else
  cat "$describe_err" >&2
  die "cannot read the secret ${secret_id}"
fi

case "$mode" in
  create)
    if [ "$exists" = true ]; then
      die "${secret_id} already exists: --rotate to rotate its keys, --replace to start over"
    fi
    keyset create
    create_args=(--name "$secret_id" --description "portal-api access token signing keys (ES256 key set)")
    if [ -n "$kms_key_id" ]; then
      create_args+=(--kms-key-id "$kms_key_id")
    fi
    arn="$(aws_sm create-secret "${create_args[@]}" --secret-string "file://$new_file" \
      --query ARN --output text)"
    echo "created ${arn} with a new key set"
    ;;
  rotate | replace)
    if [ "$exists" = false ]; then
      die "${secret_id} does not exist: run without --${mode} to create it"
    fi
    if [ "$mode" = rotate ]; then
      aws_sm get-secret-value --secret-id "$secret_id" --query SecretString --output text \
        >"$old_file"
    fi
    keyset "$mode"
    version="$(aws_sm put-secret-value --secret-id "$secret_id" \
      --secret-string "file://$new_file" --query VersionId --output text)"
    echo "stored the key set in ${secret_id} (version ${version})"
    ;;
esac
echo "next: deploy (or force a new deployment) so the tasks read it; JWT_SIGNING_KEYS_SECRET_ID=${secret_id}"
