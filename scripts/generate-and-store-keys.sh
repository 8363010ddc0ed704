#!/usr/bin/env bash
# Generates the JWT signing secret of portal-api (HS256) and stores it in AWS Secrets Manager.
# The value is never printed, never put on a command line (ps shows those), and only exists
# on disk in a private temporary file that is removed on exit.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/generate-and-store-keys.sh --secret-id NAME [--region REGION]
         [--kms-key-id KEY] [--bytes N] [--dry-run]

Generates a random JWT signing secret (N random bytes, base64url; default 48 bytes, 64
characters) and stores it as a new version of the secret NAME, creating the secret if it
does not exist. The API reads it at start when JWT_SECRET_ID=NAME.

  --secret-id   Secrets Manager name or ARN, e.g. portal-api/prod/jwt-secret
  --region      AWS region (default: the aws CLI's)
  --kms-key-id  KMS key for a new secret (default: aws/secretsmanager)
  --bytes       random bytes, at least 48
  --dry-run     generate and check, but call no AWS API and store nothing

Needs openssl, and the aws CLI with secretsmanager:DescribeSecret, PutSecretValue and
(for a new secret) CreateSecret. Running tasks keep the old secret until they restart:
deploy (or aws ecs update-service --force-new-deployment) afterwards. Tokens signed with
the old secret are refused from then on: users sign in again.
USAGE
}

die() {
  echo "generate-and-store-keys: $*" >&2
  exit "${EXIT_CODE:-1}"
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
bytes=48
dry_run=false

while [ $# -gt 0 ]; do
  case "$1" in
    --secret-id | --region | --kms-key-id | --bytes)
      [ $# -ge 2 ] || usage_error "$1 needs a value"
      case "$1" in
        --secret-id) secret_id="$2" ;;
        --region) region="$2" ;;
        --kms-key-id) kms_key_id="$2" ;;
        --bytes) bytes="$2" ;;
      esac
      shift 2
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
case "$bytes" in
  '' | *[!0-9]*) usage_error "--bytes must be a number" ;;
esac
[ "$bytes" -ge 48 ] || usage_error "--bytes must be at least 48"

command -v openssl >/dev/null 2>&1 || die "openssl is not installed"
if [ "$dry_run" = false ]; then
  command -v aws >/dev/null 2>&1 || die "the aws CLI is not installed"
fi

umask 077
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
secret_file="$workdir/secret"

# base64url without padding or newline, so the stored value is exactly the secret.
openssl rand "$bytes" | openssl base64 -A | tr '+/' '-_' | tr -d '=\n' >"$secret_file"
length="$(wc -c <"$secret_file" | tr -d ' ')"
[ "$length" -ge 64 ] || die "generated only $length characters"

aws_args=()
if [ -n "$region" ]; then
  aws_args+=(--region "$region")
fi

if [ "$dry_run" = true ]; then
  echo "dry run: generated a ${length}-character secret (not shown)"
  echo "dry run: would store it in ${secret_id}: describe-secret, then put-secret-value" \
    "(or create-secret when it does not exist); nothing was stored"
  exit 0
fi

describe_err="$workdir/describe.err"
if aws ${aws_args[@]+"${aws_args[@]}"} secretsmanager describe-secret --secret-id "$secret_id" \
  --query ARN --output text >/dev/null 2>"$describe_err"; then
  version="$(aws ${aws_args[@]+"${aws_args[@]}"} secretsmanager put-secret-value --secret-id "$secret_id" \
    --secret-string "file://$secret_file" --query VersionId --output text)"
  echo "stored a new ${length}-character JWT secret in ${secret_id} (version ${version})"
elif grep -q ResourceNotFoundException "$describe_err"; then
  create_args=(--name "$secret_id" --description "portal-api JWT signing secret (HS256)")
  if [ -n "$kms_key_id" ]; then
    create_args+=(--kms-key-id "$kms_key_id")
  fi
  arn="$(aws ${aws_args[@]+"${aws_args[@]}"} secretsmanager create-secret "${create_args[@]}" \
    --secret-string "file://$secret_file" --query ARN --output text)"
  echo "created ${arn} with a ${length}-character JWT secret"
else
  cat "$describe_err" >&2
  die "cannot read the secret ${secret_id}"
fi
echo "next: deploy (or force a new deployment) so the tasks read it; JWT_SECRET_ID=${secret_id}"
