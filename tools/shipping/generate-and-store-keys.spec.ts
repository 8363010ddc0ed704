import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningJwk, parseSigningKeySet, SigningJwk } from '../../src/auth/signing-keys';

/** scripts/generate-and-store-keys.sh with a fake `aws` on PATH that records what it is given. */
const SCRIPT = join(__dirname, '..', '..', 'scripts', 'generate-and-store-keys.sh');

// get-secret-value answers the file `current`; a file:// argument is what gets stored.
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
    echo "arn:aws:secretsmanager:sa-east-1:1:secret:portal/keys-AbC" ;;
  get-secret-value) cat "$FAKE_AWS_DIR/current" ;;
  put-secret-value) echo "version-2" ;;
  create-secret) echo "arn:aws:secretsmanager:sa-east-1:1:secret:portal/keys-AbC" ;;
esac
`;

interface StoredSet {
  current: string;
  keys: SigningJwk[];
}

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
  const stored = (): StoredSet => JSON.parse(readFileSync(join(dir, 'stored'), 'utf8'));
  /** What the secret holds now: the last stored set becomes the one get-secret-value answers. */
  const setCurrent = (value: string) => writeFileSync(join(dir, 'current'), value);
  const privateParts = (set: StoredSet) => set.keys.flatMap((k) => (k.d ? [k.d] : []));

  function expectNothingLeaked(r: ReturnType<typeof run>, set: StoredSet): void {
    for (const secret of privateParts(set)) {
      expect(r.stdout + r.stderr).not.toContain(secret);
      expect(calls()).not.toContain(secret); // never on a command line
    }
    expect(readFileSync(join(dir, 'mode'), 'utf8').trim()).toBe('600');
    expect(existsSync(readFileSync(join(dir, 'path'), 'utf8').trim())).toBe(false); // removed
  }

  it('creates the secret with a current and a staged next key, never showing a private key', () => {
    const r = run(
      ['--secret-id', 'portal/keys', '--region', 'sa-east-1', '--kms-key-id', 'alias/portal'],
      'missing',
    );
    expect(r.status).toBe(0);
    const set = stored();
    // The app reads it as it is.
    const parsed = parseSigningKeySet(JSON.stringify(set));
    expect(parsed.currentKid).toBe(set.current);
    expect(set.keys).toHaveLength(2);
    expect(set.keys.every((k) => typeof k.d === 'string')).toBe(true);
    expect(parsed.kids).toEqual(set.keys.map((k) => k.kid));
    expectNothingLeaked(r, set);
    expect(calls()).toMatch(
      /^--region sa-east-1 secretsmanager describe-secret --secret-id portal\/keys/m,
    );
    expect(calls()).toMatch(
      /create-secret --name portal\/keys --description .* --kms-key-id alias\/portal --secret-string file:\/\//,
    );
    expect(calls()).not.toMatch(/put-secret-value|get-secret-value/);
    expect(r.stdout).toContain(`current: ${set.current} (new)`);
    expect(r.stdout).toContain('created arn:aws:secretsmanager:sa-east-1:1:secret:portal/keys-AbC');
  });

  it('refuses to overwrite an existing secret without --rotate or --replace', () => {
    const r = run(['--secret-id', 'portal/keys']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('already exists: --rotate to rotate its keys');
    expect(calls()).not.toMatch(/put-secret-value|create-secret/);
  });

  it('--rotate promotes the staged key, keeps the old one public and stages a new one', () => {
    expect(run(['--secret-id', 'portal/keys'], 'missing').status).toBe(0);
    const first = stored();
    setCurrent(JSON.stringify(first));

    const r = run(['--secret-id', 'portal/keys', '--rotate']);
    expect(r.status).toBe(0);
    const second = stored();
    const [oldCurrent, oldNext] = first.keys;
    expect(second.current).toBe(oldNext.kid);
    expect(second.keys.map((k) => k.kid)).toEqual([
      oldNext.kid,
      expect.not.stringMatching(new RegExp(`^(${oldCurrent.kid}|${oldNext.kid})$`)),
      oldCurrent.kid,
    ]);
    expect(second.keys[2].d).toBeUndefined(); // the old current key: public only
    expect(second.keys[2]).toMatchObject({ x: oldCurrent.x, y: oldCurrent.y });
    // A fleet mid-deploy: the old tasks already trust the new signer, the new ones the old.
    expect(parseSigningKeySet(JSON.stringify(first)).verificationKey(second.current)).toBeDefined();
    expect(parseSigningKeySet(JSON.stringify(second)).verificationKey(first.current)).toBeDefined();
    expect(calls()).toMatch(
      /get-secret-value --secret-id portal\/keys --query SecretString --output text/,
    );
    expect(calls()).toMatch(/put-secret-value --secret-id portal\/keys --secret-string file:\/\//);
    expectNothingLeaked(r, second);
    expect(r.stdout).toContain(`current: ${second.current} (was staged)`);
    expect(r.stdout).toContain('stored the key set in portal/keys (version version-2)');
  });

  it('--rotate keeps a bounded number of previous keys (--keep)', () => {
    expect(run(['--secret-id', 'portal/keys'], 'missing').status).toBe(0);
    const currents: string[] = [stored().current];
    for (let i = 0; i < 4; i++) {
      setCurrent(JSON.stringify(stored()));
      expect(run(['--secret-id', 'portal/keys', '--rotate']).status).toBe(0);
      currents.unshift(stored().current);
    }
    const set = stored();
    expect(set.keys).toHaveLength(4); // current, next, 2 previous
    expect(set.keys.slice(2).map((k) => k.kid)).toEqual([currents[1], currents[2]]);
    parseSigningKeySet(JSON.stringify(set));

    setCurrent(JSON.stringify(set));
    expect(run(['--secret-id', 'portal/keys', '--rotate', '--keep', '1']).status).toBe(0);
    expect(stored().keys).toHaveLength(3);
  });

  it('--rotate of a set without a staged key only stages one (promote it next time)', () => {
    const only = generateSigningJwk();
    const previous = generateSigningJwk();
    const { d: _d, ...previousPublic } = previous;
    setCurrent(JSON.stringify({ keys: [only, previousPublic] }));
    const r = run(['--secret-id', 'portal/keys', '--rotate']);
    expect(r.status).toBe(0);
    const set = stored();
    expect(set.current).toBe(only.kid);
    expect(set.keys.map((k) => k.kid)).toEqual([only.kid, expect.any(String), previous.kid]);
    expect(set.keys[1].d).toEqual(expect.any(String));
    expect(r.stdout).toContain('run --rotate again');
    parseSigningKeySet(JSON.stringify(set));
  });

  it.each([
    ['not JSON (an old HS256 secret)', 'an-old-hs256-secret-an-old-hs256-secret'],
    ['JSON without keys', '{"jwt_secret":"x"}'],
    ['a set without a private current key', JSON.stringify({ keys: [{ kid: 'a' }] })],
  ])('--rotate stops on a secret that is %s, storing nothing', (_what, value) => {
    setCurrent(value);
    const r = run(['--secret-id', 'portal/keys', '--rotate']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/use --replace|no "keys"/);
    expect(calls()).not.toContain('put-secret-value');
  });

  it('--replace starts a new set without any old key; it needs the secret to exist', () => {
    expect(run(['--secret-id', 'portal/keys'], 'missing').status).toBe(0);
    const first = stored();
    const r = run(['--secret-id', 'portal/keys', '--replace']);
    expect(r.status).toBe(0);
    const second = stored();
    expect(second.keys).toHaveLength(2);
    for (const k of first.keys) expect(second.keys.map((x) => x.kid)).not.toContain(k.kid);
    expect(calls()).not.toContain('get-secret-value');
    const missing = run(['--secret-id', 'portal/other', '--replace'], 'missing');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  });

  it('stops on any other error reading the secret', () => {
    const r = run(['--secret-id', 'portal/keys', '--rotate'], 'denied');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('AccessDeniedException');
    expect(calls()).not.toMatch(/put-secret-value|create-secret|get-secret-value/);
  });

  it('--dry-run calls no AWS API', () => {
    const r = run(['--secret-id', 'portal/keys', '--dry-run', '--rotate']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('dry run: generated a key set of 2 P-256 keys (not shown)');
    expect(r.stdout).toContain('would rotate portal/keys');
    expect(calls()).toBe('');
  });

  it.each([
    [[], /--secret-id is required/],
    [['--secret-id'], /--secret-id needs a value/],
    [['--secret-id', 'x', '--keep', '9'], /--keep must be 1..8/],
    [['--secret-id', 'x', '--keep', '0'], /--keep must be 1..8/],
    [['--secret-id', 'x', '--keep', 'two'], /--keep must be a number/],
    [['--secret-id', 'x', '--rotate', '--replace'], /not both/],
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
