import { createHmac, createPrivateKey, KeyObject, randomUUID, sign } from 'node:crypto';
import type { SigningJwk } from '../../src/auth/signing-keys';
import type { TestApp } from './test-app';

/** The private key and kid of a key of a JWT_SIGNING_KEYS text (the current one by default). */
export function signingKeyOf(keysJson: string, kid?: string): { kid: string; key: KeyObject } {
  const set = JSON.parse(keysJson) as { current?: string; keys: SigningJwk[] };
  const jwk = set.keys.find((k) => k.kid === (kid ?? set.current)) ?? set.keys[0];
  return { kid: jwk.kid, key: createPrivateKey({ key: { ...jwk }, format: 'jwk' }) };
}

const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A compact JWS made by hand, so tests can forge what the app must refuse: any header, any
 * claims, ES256 with any key, HS256 with any secret, or no signature at all (alg none).
 */
export function forgeToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signer: { es256: KeyObject } | { hs256: Buffer | string } | 'none',
): string {
  const input = `${part(header)}.${part(payload)}`;
  if (signer === 'none') return `${input}.`;
  const signature =
    'es256' in signer
      ? sign('sha256', Buffer.from(input), { key: signer.es256, dsaEncoding: 'ieee-p1363' })
      : createHmac('sha256', signer.hs256).update(input).digest();
  return `${input}.${signature.toString('base64url')}`;
}

/** The claims the app under test would put in an access token for this session. */
export function claimsFor(
  t: TestApp,
  user: { id: string; tokenVersion: number },
  sessionId: string,
  lifetimeSeconds = 900,
): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  return {
    iss: t.config.jwtIssuer,
    aud: t.config.jwtAudience,
    sub: user.id,
    sid: sessionId,
    jti: randomUUID(),
    token_version: user.tokenVersion,
    iat,
    exp: iat + lifetimeSeconds,
  };
}
