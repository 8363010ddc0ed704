import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** scripts/generate-and-store-keys.sh with a fake `aws` on PATH that records what it is given. */
const SCRIPT = join(__dirname, '..', '..', 'scripts', 'generate-and-store-keys.sh');

const FAKE_AWS = `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$*" >> "$FAKE_AWS_DIR/calls"
for arg in "$@"; do
  case "$arg" in
    file://*) f="\${arg#file://}"; cat "$f" > "$FAKE_AWS_DIR/stored"; stat -c '%a' "$f" > "$FAKE_AWS_DIR/mode"; echo "$f" > "$FAKE_AWS_DIR/path" ;;
  esac
done
op=""
prev=""
for arg in "$@"; do
  if [ "$prev" = secretsmanager ]; then op="$arg"; fi
  prev="$arg"
done
case "$op" in
  describe-secret)
    if [ "$FAKE_AWS_MODE" = missing ]; then
      echo "An error occurred (ResourceNotFoundException) when calling the DescribeSecret operation" >&2; exit 254
    elif [ "$FAKE_AWS_MODE" = denied ]; then
      echo "An error occurred (AccessDeniedException) when calling the DescribeSecret operation" >&2; exit 254
    fi
    echo "arn:aws:secretsmanager:sa-east-1:1:secret:portal/jwt-AbC" ;;
  put-secret-value) echo "version-2" ;;
  create-secret) echo "arn:aws:secretsmanager:sa-east-1:1:secret:portal/jwt-AbC" ;;
esac
`;

describe('scripts/generate-and-store-keys.sh', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keys-spec-'));
    writeFileSync(join(dir, 'aws'), FAKE_AWS);
    chmodSync(join(dir, 'aws'), 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], mode = 'exists') =>
    spawnSync('bash', [SCRIPT, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${dir}:${process.env.PATH}`,
        FAKE_AWS_DIR: dir,
        FAKE_AWS_MODE: mode,
      },
      timeout: 20_000,
    });
  const calls = () =>
    existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8') : '';

  it('stores a new version of an existing secret without ever showing the value', () => {
    const r = run(['--secret-id', 'portal/jwt', '--region', 'sa-east-1']);
    expect(r.status).toBe(0);
    const stored = readFileSync(join(dir, 'stored'), 'utf8');
    expect(stored).toMatch(/^[A-Za-z0-9_-]{64}$/); // 48 bytes, base64url, no newline
    expect(r.stdout + r.stderr).not.toContain(stored);
    expect(calls()).not.toContain(stored); // never on a command line
    expect(calls()).toMatch(
      /^--region sa-east-1 secretsmanager describe-secret --secret-id portal\/jwt/m,
    );
    expect(calls()).toMatch(
      /secretsmanager put-secret-value --secret-id portal\/jwt --secret-string file:\/\//,
    );
    expect(calls()).not.toContain('create-secret');
    expect(readFileSync(join(dir, 'mode'), 'utf8').trim()).toBe('600');
    expect(existsSync(readFileSync(join(dir, 'path'), 'utf8').trim())).toBe(false); // removed
    expect(r.stdout).toContain(
      'stored a new 64-character JWT secret in portal/jwt (version version-2)',
    );
  });

  it('creates the secret when it does not exist, and makes a new value every time', () => {
    const first = run(['--secret-id', 'portal/jwt', '--kms-key-id', 'alias/portal'], 'missing');
    expect(first.status).toBe(0);
    expect(calls()).toMatch(
      /create-secret --name portal\/jwt --description .* --kms-key-id alias\/portal --secret-string file:\/\//,
    );
    const a = readFileSync(join(dir, 'stored'), 'utf8');
    expect(run(['--secret-id', 'portal/jwt']).status).toBe(0);
    expect(readFileSync(join(dir, 'stored'), 'utf8')).not.toBe(a);
  });

  it('stops on any other error reading the secret', () => {
    const r = run(['--secret-id', 'portal/jwt'], 'denied');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('AccessDeniedException');
    expect(calls()).not.toMatch(/put-secret-value|create-secret/);
  });

  it('--dry-run calls no AWS API', () => {
    const r = run(['--secret-id', 'portal/jwt', '--dry-run', '--bytes', '64']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('dry run: generated a 86-character secret (not shown)');
    expect(calls()).toBe('');
  });

  it.each([
    [[], /--secret-id is required/],
    [['--secret-id'], /--secret-id needs a value/],
    [['--secret-id', 'x', '--bytes', '16'], /at least 48/],
    [['--secret-id', 'x', '--frobnicate'], /unknown argument/],
  ])('%j is a usage error (exit 2)', (args, message) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('usage:');
  });

  it('--help', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: scripts/generate-and-store-keys.sh');
  });
});
