import { createPublicKey, sign, verify } from 'node:crypto';
import {
  generateSigningJwk,
  generateSigningKeysJson,
  jwkThumbprint,
  MAX_SIGNING_KEYS,
  parseSigningKeySet,
  SigningJwk,
  SigningKeysError,
} from './signing-keys';

function publicOf(key: SigningJwk): SigningJwk {
  const { d: _d, ...pub } = key;
  return pub;
}

function problemsOf(value: unknown): string {
  try {
    parseSigningKeySet(typeof value === 'string' ? value : JSON.stringify(value));
  } catch (e) {
    expect(e).toBeInstanceOf(SigningKeysError);
    return (e as SigningKeysError).problems.join('\n');
  }
  throw new Error('expected a SigningKeysError');
}

describe('parseSigningKeySet', () => {
  const current = generateSigningJwk();
  const next = generateSigningJwk();
  const previous = generateSigningJwk();

  it('reads a one-key set: its key signs and verifies, and `current` may be left out', () => {
    const set = parseSigningKeySet(JSON.stringify({ keys: [current] }));
    expect(set.currentKid).toBe(current.kid);
    const data = Buffer.from('x');
    const signature = sign('sha256', data, set.currentPrivateKey);
    expect(verify('sha256', data, set.verificationKey(current.kid)!, signature)).toBe(true);
    expect(set.verificationKey('unknown')).toBeUndefined();
  });

  it('signs with `current`, verifies with every key, and publishes public parts only', () => {
    const set = parseSigningKeySet(
      JSON.stringify({ current: current.kid, keys: [next, publicOf(previous), current] }),
    );
    expect(set.currentKid).toBe(current.kid);
    expect(set.kids).toEqual([current.kid, next.kid, previous.kid]);
    expect(set.jwks.keys).toEqual(
      [current, next, previous].map((k) => ({
        kty: 'EC',
        crv: 'P-256',
        x: k.x,
        y: k.y,
        kid: k.kid,
        alg: 'ES256',
        use: 'sig',
      })),
    );
    expect(JSON.stringify(set.jwks)).not.toMatch(/"d"/);
    for (const k of [current, next, previous]) expect(set.verificationKey(k.kid)).toBeDefined();
  });

  it('generates keys whose kid is their RFC 7638 thumbprint', () => {
    const key = generateSigningJwk();
    expect(key.kid).toBe(jwkThumbprint(key));
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(parseSigningKeySet(generateSigningKeysJson()).currentKid).toMatch(/^[\w-]{43}$/);
    // The public key of the thumbprint's input is the key's own.
    const pub = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: key.x, y: key.y },
      format: 'jwk',
    });
    expect(pub.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it.each([
    ['not JSON', 'nope', /not valid JSON/],
    ['an array', [current], /must be a JSON object/],
    ['no keys', { current: 'a' }, /"keys" must be a non-empty array/],
    ['empty keys', { keys: [] }, /"keys" must be a non-empty array/],
    ['an unknown member', { keys: [current], kid: 'x' }, /unknown member "kid"/],
    ['a key without kid', { keys: [{ ...current, kid: undefined }] }, /keys\[0\]: "kid" must be/],
    ['an RSA key', { keys: [{ ...current, kty: 'RSA' }] }, /must be an EC P-256 key/],
    ['a P-384 key', { keys: [{ ...current, crv: 'P-384' }] }, /must be an EC P-256 key/],
    ['alg RS256', { keys: [{ ...current, alg: 'RS256' }] }, /"alg" must be ES256/],
    ['use enc', { keys: [{ ...current, use: 'enc' }] }, /"use" must be "sig"/],
    ['a short x', { keys: [{ ...current, x: 'abc' }] }, /"x" must be a base64url/],
    ['a point off the curve', { keys: [{ ...current, y: current.x }] }, /not a point of P-256/],
    ['d of another key', { keys: [{ ...current, d: next.d }] }, /"d" does not belong/],
    ['a repeated kid', { keys: [current, { ...next, kid: current.kid }] }, /appears twice/],
    ['no private key', { keys: [publicOf(current)] }, /no key has a private part/],
    ['two private keys and no current', { keys: [current, next] }, /name the signing one/],
    ['current not in keys', { current: 'other', keys: [current] }, /not in keys/],
    [
      'a public current',
      { current: previous.kid, keys: [current, publicOf(previous)] },
      /no private part/,
    ],
    [
      'too many keys',
      { keys: Array.from({ length: MAX_SIGNING_KEYS + 1 }, () => generateSigningJwk()) },
      /at most 10 keys/,
    ],
  ])('refuses %s', (_what, value, message) => {
    expect(problemsOf(value)).toMatch(message);
  });

  it('never puts key material in a problem', () => {
    const problems = problemsOf({
      keys: [
        { ...current, d: next.d },
        { ...next, crv: 'P-384' },
      ],
    });
    for (const secret of [current.d!, next.d!, current.x, next.x]) {
      expect(problems).not.toContain(secret);
    }
  });
});
