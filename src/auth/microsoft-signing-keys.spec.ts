import { randomUUID } from 'node:crypto';
import { FakeEntra, newTenantId } from '../../test/utils/fake-entra';
import type { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app-config';
import {
  KEYS_REFRESH_MS,
  KEYS_STALE_LIMIT_MS,
  MicrosoftSigningKeys,
  parseKeySet,
  UNKNOWN_KID_REFETCH_MS,
} from './microsoft-signing-keys';

describe('MicrosoftSigningKeys (against a loopback fake Entra)', () => {
  let entra: FakeEntra;
  let now: number;
  let keys: MicrosoftSigningKeys;
  let tid: string;

  const clock: Clock = { now: () => new Date(now) };
  const advance = (ms: number) => {
    now += ms;
  };

  beforeAll(async () => {
    entra = await FakeEntra.start();
  });
  afterAll(async () => {
    await entra.stop();
  });
  beforeEach(async () => {
    now = Date.parse('2026-06-01T12:00:00Z');
    tid = newTenantId();
    await entra.addTenant(tid);
    entra.mode = 'up';
    entra.fetches.length = 0;
    keys = new MicrosoftSigningKeys(
      {
        microsoftAuthority: entra.authority,
        microsoftKeysTimeoutMs: 2_000, // generous: a loaded CI machine; 'slow' never answers
      } as AppConfig,
      clock,
    );
  });

  const kid = () => entra.keysOf(tid)[0].kid;

  it('fetches a tenant once, then serves its keys from memory', async () => {
    expect(await keys.keyFor(tid, kid())).not.toBeNull();
    expect(await keys.keyFor(tid, kid())).not.toBeNull();
    expect(entra.fetchesOf(tid)).toBe(1);
  });

  it('shares one fetch between concurrent first uses', async () => {
    const found = await Promise.all(Array.from({ length: 8 }, () => keys.keyFor(tid, kid())));
    expect(found.every((k) => k !== null)).toBe(true);
    expect(entra.fetchesOf(tid)).toBe(1);
  });

  it('answers null for a kid the tenant does not publish, refetching at most once a minute', async () => {
    await keys.keyFor(tid, kid());
    expect(await keys.keyFor(tid, randomUUID())).toBeNull();
    expect(entra.fetchesOf(tid)).toBe(1);
    advance(UNKNOWN_KID_REFETCH_MS);
    expect(await keys.keyFor(tid, randomUUID())).toBeNull();
    expect(await keys.keyFor(tid, randomUUID())).toBeNull();
    expect(entra.fetchesOf(tid)).toBe(2);
  });

  it('refreshes keys older than an hour, so a retired key stops working', async () => {
    const old = kid();
    expect(await keys.keyFor(tid, old)).not.toBeNull();
    await entra.rotate(tid);
    advance(KEYS_REFRESH_MS);
    expect(await keys.keyFor(tid, old)).toBeNull();
    expect(await keys.keyFor(tid, kid())).not.toBeNull();
    expect(entra.fetchesOf(tid)).toBe(2);
  });

  it('keeps using cached keys while a refresh fails, up to a day; then 503', async () => {
    const current = kid();
    await keys.keyFor(tid, current);
    entra.mode = 'down';
    advance(KEYS_REFRESH_MS);
    expect(await keys.keyFor(tid, current)).not.toBeNull();
    // The failed refresh counts for the once-a-minute rule too.
    expect(await keys.keyFor(tid, current)).not.toBeNull();
    expect(entra.fetchesOf(tid)).toBe(2);

    advance(KEYS_STALE_LIMIT_MS);
    await expect(keys.keyFor(tid, current)).rejects.toMatchObject({
      status: 503,
      code: 'microsoft_keys_unavailable',
    });
    entra.mode = 'up';
    advance(UNKNOWN_KID_REFETCH_MS);
    expect(await keys.keyFor(tid, current)).not.toBeNull();
  });

  it.each(['down', 'error', 'garbage', 'slow'] as const)(
    '503 microsoft_keys_unavailable when the first fetch fails (%s)',
    async (mode) => {
      entra.mode = mode;
      const err = await keys.keyFor(tid, kid()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 503, code: 'microsoft_keys_unavailable' });
      // Nothing is cached from a failure: the next use tries again.
      entra.mode = 'up';
      expect(await keys.keyFor(tid, kid())).not.toBeNull();
    },
  );
});

describe('parseKeySet', () => {
  const rsa = { kty: 'RSA', n: 'AQAB', e: 'AQAB' };

  it('keeps RSA signing keys by kid, with only what verifying needs', () => {
    const keys = parseKeySet(
      JSON.stringify({
        keys: [
          { ...rsa, kid: 'a', use: 'sig', alg: 'RS256', x5c: ['MII...'], issuer: 'x' },
          { ...rsa, kid: 'b' },
        ],
      }),
    );
    expect([...keys.keys()]).toEqual(['a', 'b']);
    expect(keys.get('a')).toEqual(rsa);
  });

  it.each([
    ['not JSON', '{"keys": ['],
    ['no keys array', '{"keys": {}}'],
    ['null', 'null'],
    [
      'an EC key',
      JSON.stringify({ keys: [{ kty: 'EC', kid: 'a', crv: 'P-256', x: 'x', y: 'y' }] }),
    ],
    ['an encryption key', JSON.stringify({ keys: [{ ...rsa, kid: 'a', use: 'enc' }] })],
    ['another algorithm', JSON.stringify({ keys: [{ ...rsa, kid: 'a', alg: 'RS512' }] })],
    ['no kid', JSON.stringify({ keys: [rsa] })],
    ['a symmetric key', JSON.stringify({ keys: [{ kty: 'oct', kid: 'a', k: 'c2VjcmV0' }] })],
  ])('ignores %s', (_what, text) => {
    expect(parseKeySet(text).size).toBe(0);
  });
});
