import { Injectable } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { emailFromClaims, MicrosoftIdentity } from './microsoft-profile';
import { MicrosoftSigningKeys } from './microsoft-signing-keys';

/** How far exp and nbf may be off, for clocks that disagree a little (seconds). */
export const ID_TOKEN_CLOCK_SKEW_SECONDS = 60;

/** The only algorithm Entra ID signs ID tokens with, and the only one accepted. */
const ALGORITHM = 'RS256';

export function tokenRejected(detail: string): AppError {
  return AppError.unauthorized(detail, 'microsoft_token_rejected');
}

/**
 * Verifies an Entra ID (OpenID Connect) ID token locally and says who it names:
 * - the header's alg must be RS256 (none, HS256 and every other algorithm are refused before
 *   any key is looked at);
 * - the tenant (`tid`) must be in MICROSOFT_TENANT_IDS, checked before any key is fetched, so
 *   a token can never make the server fetch keys for a tenant of its choosing;
 * - the signature must verify with the tenant's published key of that kid
 *   (MicrosoftSigningKeys: cached, refetched for an unknown kid at most once a minute);
 * - `iss` = `{MICROSOFT_AUTHORITY}/{tid}/v2.0`, `aud` = MICROSOFT_CLIENT_ID;
 * - `exp` (required) and `nbf` (when present) against the Clock, with 60 s of skew;
 * - `oid` must be a GUID.
 * Any failure is 401 microsoft_token_rejected; keys that cannot be fetched are 503
 * microsoft_keys_unavailable; without MICROSOFT_CLIENT_ID, 404 microsoft_sign_in_disabled.
 */
@Injectable()
export class MicrosoftIdTokenVerifier {
  constructor(
    private readonly config: AppConfig,
    private readonly keys: MicrosoftSigningKeys,
    private readonly clock: Clock,
  ) {}

  async verify(idToken: string): Promise<MicrosoftIdentity> {
    const clientId = this.config.microsoftClientId;
    if (!clientId) {
      throw AppError.notFound(
        'Microsoft sign-in is not configured on this server (MICROSOFT_CLIENT_ID is not set).',
        'microsoft_sign_in_disabled',
      );
    }

    // Unverified reads, only to choose the checks: nothing here is trusted yet.
    let alg: unknown;
    let kid: unknown;
    let unverified: JWTPayload;
    try {
      ({ alg, kid } = decodeProtectedHeader(idToken));
      unverified = decodeJwt(idToken);
    } catch {
      throw tokenRejected('The ID token is not a well-formed JWT.');
    }
    if (alg !== ALGORITHM) {
      throw tokenRejected(`The ID token must be signed with ${ALGORITHM}.`);
    }
    if (typeof kid !== 'string' || kid.length === 0) {
      throw tokenRejected('The ID token does not name its signing key (kid).');
    }
    const tid = unverified.tid;
    if (typeof tid !== 'string' || !this.config.microsoftTenantIds.includes(tid)) {
      throw tokenRejected('The ID token comes from a tenant (tid) that may not sign in here.');
    }

    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(
        idToken,
        async () => {
          const key = await this.keys.keyFor(tid, kid);
          if (!key) {
            throw tokenRejected('The ID token is signed with a key its tenant does not publish.');
          }
          return key;
        },
        {
          algorithms: [ALGORITHM],
          issuer: `${this.config.microsoftAuthority}/${tid}/v2.0`,
          audience: clientId,
          requiredClaims: ['exp'],
          clockTolerance: ID_TOKEN_CLOCK_SKEW_SECONDS,
          currentDate: this.clock.now(),
        },
      ));
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof errors.JOSEError) throw tokenRejected(rejectionDetail(err));
      throw err;
    }

    const oid = claims.oid;
    if (claims.tid !== tid || typeof oid !== 'string' || !isUUID(oid, 'all')) {
      throw tokenRejected('The ID token does not carry a valid object id (oid).');
    }
    return {
      tid,
      oid: oid.toLowerCase(),
      email: emailFromClaims(claims),
      displayName: typeof claims.name === 'string' ? claims.name : null,
    };
  }
}

function rejectionDetail(err: InstanceType<typeof errors.JOSEError>): string {
  if (err instanceof errors.JWTExpired) return 'The ID token has expired.';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'The ID token is not valid yet (nbf).';
    return `The ID token's "${err.claim}" claim is not the expected one.`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return "The ID token's signature does not verify.";
  }
  return 'The ID token is not valid.';
}
