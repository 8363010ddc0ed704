import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign,
  verify,
} from 'node:crypto';

/** The one algorithm access tokens are signed and verified with. */
export const ACCESS_TOKEN_ALGORITHM = 'ES256';
/** Current + next + a few previous keys is all a rotation needs; more is a mistake. */
export const MAX_SIGNING_KEYS = 10;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const KID = /^[\x21-\x7e]{1,128}$/;
const P256_COORDINATE_CHARS = 43; // 32 bytes, base64url without padding

/** A public key as GET /.well-known/jwks.json serves it. */
export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: typeof ACCESS_TOKEN_ALGORITHM;
  use: 'sig';
}

/** A JWK as the key set holds it: the public members, plus `d` for a private key. */
export interface SigningJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d?: string;
  kid: string;
  alg?: string;
  use?: string;
}

export class SigningKeysError extends Error {
  constructor(public readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'SigningKeysError';
  }
}

/**
 * The keys of JWT_SIGNING_KEYS: the current private key signs, every key in the set (current,
 * a staged next one, previous ones) verifies. Holds KeyObjects made once, never PEM strings.
 */
export class SigningKeySet {
  private readonly verifiers: ReadonlyMap<string, KeyObject>;

  constructor(
    readonly currentKid: string,
    readonly currentPrivateKey: KeyObject,
    verifiers: ReadonlyMap<string, KeyObject>,
    /** Public parts only, the current key first. */
    readonly jwks: { keys: PublicJwk[] },
  ) {
    this.verifiers = verifiers;
  }

  /** The public key for a token's `kid`, if the set has it. */
  verificationKey(kid: string): KeyObject | undefined {
    return this.verifiers.get(kid);
  }

  get kids(): string[] {
    return [...this.verifiers.keys()];
  }
}

/**
 * Reads the key set format (docs/security.md, "Signing keys"):
 *
 *   {"current": "<kid>", "keys": [<JWK>, ...]}
 *
 * Each JWK is an EC P-256 key with a `kid`; `d` (the private part) is present for the current
 * key and may be for a staged next key; previous keys are public only. `current` may be left
 * out when exactly one key has a private part. `alg` (ES256) and `use` (sig) are optional.
 * Problems name the key and member, never a key's value.
 */
export function parseSigningKeySet(text: string, name = 'JWT_SIGNING_KEYS'): SigningKeySet {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SigningKeysError([`${name} is not valid JSON (see docs/security.md)`]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SigningKeysError([`${name} must be a JSON object {"current", "keys": [...]}`]);
  }
  const problems: string[] = [];
  const { keys, current, ...unknown } = raw as Record<string, unknown>;
  for (const member of Object.keys(unknown)) {
    problems.push(`${name}: unknown member "${member}" (only "current" and "keys")`);
  }
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new SigningKeysError([...problems, `${name}: "keys" must be a non-empty array`]);
  }
  if (keys.length > MAX_SIGNING_KEYS) {
    problems.push(`${name}: at most ${MAX_SIGNING_KEYS} keys (got ${keys.length})`);
  }
  if (current !== undefined && (typeof current !== 'string' || !KID.test(current))) {
    problems.push(`${name}: "current" must be the kid of a key in "keys"`);
  }

  const parsed: Array<{ jwk: PublicJwk; publicKey: KeyObject; privateKey?: KeyObject }> = [];
  keys.forEach((entry: unknown, i) => {
    const key = parseKey(entry, `${name}: keys[${i}]`, problems);
    if (!key) return;
    if (parsed.some((p) => p.jwk.kid === key.jwk.kid)) {
      problems.push(`${name}: keys[${i}]: kid "${key.jwk.kid}" appears twice`);
      return;
    }
    parsed.push(key);
  });

  const privates = parsed.filter((p) => p.privateKey);
  let signer: (typeof parsed)[number] | undefined;
  if (typeof current === 'string') {
    signer = parsed.find((p) => p.jwk.kid === current);
    if (!signer) problems.push(`${name}: "current" names kid "${current}", which is not in keys`);
    else if (!signer.privateKey) {
      problems.push(`${name}: the current key "${current}" has no private part ("d")`);
    }
  } else if (current === undefined && problems.length === 0) {
    if (privates.length === 1) signer = privates[0];
    else {
      problems.push(
        privates.length === 0
          ? `${name}: no key has a private part ("d"): nothing can sign`
          : `${name}: ${privates.length} keys have a private part: name the signing one in "current"`,
      );
    }
  }
  if (problems.length > 0 || !signer?.privateKey) throw new SigningKeysError(problems);

  const ordered = [signer, ...parsed.filter((p) => p !== signer)];
  return new SigningKeySet(
    signer.jwk.kid,
    signer.privateKey,
    new Map(ordered.map((p) => [p.jwk.kid, p.publicKey])),
    { keys: ordered.map((p) => p.jwk) },
  );
}

function parseKey(
  entry: unknown,
  where: string,
  problems: string[],
): { jwk: PublicJwk; publicKey: KeyObject; privateKey?: KeyObject } | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    problems.push(`${where} must be a JWK object`);
    return undefined;
  }
  const jwk = entry as Record<string, unknown>;
  const kid = jwk.kid;
  if (typeof kid !== 'string' || !KID.test(kid)) {
    problems.push(`${where}: "kid" must be 1..128 visible ASCII characters`);
    return undefined;
  }
  const at = `${where} (kid "${kid}")`;
  const before = problems.length;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') {
    problems.push(`${at}: must be an EC P-256 key ("kty": "EC", "crv": "P-256")`);
  }
  if (jwk.alg !== undefined && jwk.alg !== ACCESS_TOKEN_ALGORITHM) {
    problems.push(`${at}: "alg" must be ${ACCESS_TOKEN_ALGORITHM} when given`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    problems.push(`${at}: "use" must be "sig" when given`);
  }
  for (const member of ['x', 'y'] as const) {
    if (!isCoordinate(jwk[member])) {
      problems.push(`${at}: "${member}" must be a base64url P-256 coordinate`);
    }
  }
  if (jwk.d !== undefined && !isCoordinate(jwk.d)) {
    problems.push(`${at}: "d" must be a base64url P-256 private key`);
  }
  if (problems.length > before) return undefined;

  const pub = { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string };
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: pub, format: 'jwk' });
  } catch {
    problems.push(`${at}: "x" and "y" are not a point of P-256`);
    return undefined;
  }
  let privateKey: KeyObject | undefined;
  if (typeof jwk.d === 'string') {
    try {
      privateKey = createPrivateKey({ key: { ...pub, d: jwk.d }, format: 'jwk' });
    } catch {
      problems.push(`${at}: "d" is not a P-256 private key`);
      return undefined;
    }
    // Node takes x and y as given next to d: a d of another key would sign tokens that its own
    // published public key cannot verify. Prove the pair with one signature.
    if (!keysMatch(privateKey, publicKey)) {
      problems.push(`${at}: "d" does not belong to "x" and "y"`);
      return undefined;
    }
  }
  return {
    jwk: {
      kty: 'EC',
      crv: 'P-256',
      x: pub.x,
      y: pub.y,
      kid,
      alg: ACCESS_TOKEN_ALGORITHM,
      use: 'sig',
    },
    publicKey,
    privateKey,
  };
}

function isCoordinate(v: unknown): v is string {
  return typeof v === 'string' && v.length === P256_COORDINATE_CHARS && BASE64URL.test(v);
}

function keysMatch(privateKey: KeyObject, publicKey: KeyObject): boolean {
  const probe = Buffer.from('portal-api signing key check');
  try {
    return verify('sha256', probe, publicKey, sign('sha256', probe, privateKey));
  } catch {
    return false;
  }
}

/** RFC 7638 thumbprint of an EC public key: a stable, collision-free kid. */
export function jwkThumbprint(jwk: Pick<SigningJwk, 'crv' | 'kty' | 'x' | 'y'>): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** A new P-256 key pair as a private JWK whose kid is its thumbprint. */
export function generateSigningJwk(): SigningJwk {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as { x: string; y: string; d: string };
  const key = { kty: 'EC' as const, crv: 'P-256' as const, x: jwk.x, y: jwk.y };
  return { ...key, d: jwk.d, kid: jwkThumbprint(key), alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' };
}

/** The JSON of a one-key set (local use, tests): the text JWT_SIGNING_KEYS would hold. */
export function generateSigningKeysJson(): string {
  const key = generateSigningJwk();
  return JSON.stringify({ current: key.kid, keys: [key] });
}
