import { Injectable, Logger } from '@nestjs/common';
import { importJWK, type JWK } from 'jose';
import { Clock } from '../common/clock';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';

/** A key set is a few kilobytes; anything far larger is not Entra's. */
const MAX_BODY_BYTES = 512 * 1024;
/** A key the cache does not know makes it fetch again, but at most this often per tenant. */
export const UNKNOWN_KID_REFETCH_MS = 60_000;
/** Known keys are refreshed this often (Entra rotates its keys every few weeks)... */
export const KEYS_REFRESH_MS = 60 * 60_000;
/** ...and still used while the refresh fails, up to this age; then 503. */
export const KEYS_STALE_LIMIT_MS = 24 * 60 * 60_000;

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

interface KeySet {
  /** The tenant's public RS256 keys by kid, imported once. */
  keys: Map<string, VerifyKey>;
  fetchedAt: number;
}

interface TenantKeys {
  set?: KeySet;
  /** The last fetch started (successful or not), for the once-a-minute rule. */
  attemptedAt?: number;
  /** The fetch under way: concurrent requests share it. */
  inflight?: Promise<KeySet>;
}

export function keysUnavailable(): AppError {
  return AppError.unavailable(
    "Microsoft's signing keys could not be fetched in time; try again shortly.",
    'microsoft_keys_unavailable',
  );
}

/**
 * The RS256 public keys of each allowed tenant, read from
 * `{MICROSOFT_AUTHORITY}/{tid}/discovery/v2.0/keys` and cached in the process:
 * - the first use of a tenant fetches its keys (a failure is 503 microsoft_keys_unavailable);
 * - an unknown kid fetches again, at most once a minute per tenant (a rotation at Entra);
 *   within that minute it is simply not found;
 * - keys older than an hour are refreshed, at most once a minute; while that fails the cached
 *   keys keep working for up to a day.
 * Every fetch is bounded by MICROSOFT_KEYS_TIMEOUT_MS, body included. The caller must have
 * checked the tenant against MICROSOFT_TENANT_IDS: this class fetches for whatever tid it gets.
 */
@Injectable()
export class MicrosoftSigningKeys {
  private readonly logger = new Logger(MicrosoftSigningKeys.name);
  private readonly tenants = new Map<string, TenantKeys>();

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The key with this kid that the tenant publishes, or null when it publishes none. */
  async keyFor(tid: string, kid: string): Promise<VerifyKey | null> {
    let tenant = this.tenants.get(tid);
    if (!tenant) {
      tenant = {};
      this.tenants.set(tid, tenant);
    }
    const now = this.clock.now().getTime();
    const mayRefetch =
      tenant.attemptedAt === undefined || now - tenant.attemptedAt >= UNKNOWN_KID_REFETCH_MS;

    let set = tenant.set;
    if (!set) {
      set = await this.fetch(tid, tenant);
    } else if (now - set.fetchedAt >= KEYS_REFRESH_MS && mayRefetch) {
      try {
        set = await this.fetch(tid, tenant);
      } catch (err) {
        if (now - set.fetchedAt >= KEYS_STALE_LIMIT_MS) throw err;
        // Keep using the cached keys for now.
      }
    } else if (!set.keys.has(kid) && mayRefetch) {
      set = await this.fetch(tid, tenant);
    }
    return set.keys.get(kid) ?? null;
  }

  private fetch(tid: string, tenant: TenantKeys): Promise<KeySet> {
    if (!tenant.inflight) {
      tenant.attemptedAt = this.clock.now().getTime();
      tenant.inflight = this.download(tid)
        .then((set) => {
          tenant.set = set;
          return set;
        })
        .finally(() => {
          tenant.inflight = undefined;
        });
    }
    return tenant.inflight;
  }

  private async download(tid: string): Promise<KeySet> {
    const url = `${this.config.microsoftAuthority}/${encodeURIComponent(tid)}/discovery/v2.0/keys`;
    let status: number;
    let text: string;
    try {
      const res = await fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.config.microsoftKeysTimeoutMs),
      });
      status = res.status;
      text = await readBounded(res);
    } catch (err) {
      // Refused connection, DNS, TLS, timeout, reset mid-body, oversized body.
      this.logger.warn(`signing keys of tenant ${tid}: ${describe(err)}`);
      throw keysUnavailable();
    }
    if (status !== 200) {
      this.logger.warn(`signing keys of tenant ${tid}: HTTP ${status}`);
      throw keysUnavailable();
    }
    const keys = new Map<string, VerifyKey>();
    for (const [kid, jwk] of parseKeySet(text)) {
      try {
        keys.set(kid, await importJWK(jwk, 'RS256'));
      } catch {
        // A malformed key is skipped; a token naming it is then refused like any unknown kid.
      }
    }
    if (keys.size === 0) {
      this.logger.warn(`signing keys of tenant ${tid}: no usable RS256 key in the answer`);
      throw keysUnavailable();
    }
    return { keys, fetchedAt: this.clock.now().getTime() };
  }
}

/** The RSA signing keys of a JWKS document, by kid; anything else in it is ignored. */
export function parseKeySet(text: string): Map<string, JWK> {
  const keys = new Map<string, JWK>();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return keys;
  }
  const list = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) return keys;
  for (const raw of list as Array<Record<string, unknown>>) {
    if (typeof raw !== 'object' || raw === null) continue;
    const { kty, kid, n, e, use, alg } = raw;
    if (kty !== 'RSA' || typeof n !== 'string' || typeof e !== 'string') continue;
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > 256) continue;
    if (use !== undefined && use !== 'sig') continue;
    if (alg !== undefined && alg !== 'RS256') continue;
    // Only what verifying needs: no x5c, no key_ops that could disagree with the use.
    keys.set(kid, { kty, n, e });
  }
  return keys;
}

async function readBounded(res: Response): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    // Leaving the loop by a throw cancels the stream.
    if (size > MAX_BODY_BYTES) throw new Error('answer too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  return [e?.name, e?.message, e?.cause?.code].filter(Boolean).join(': ') || String(err);
}
