import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
type PublicKey = Awaited<ReturnType<typeof generateKeyPair>>['publicKey'];

export interface SigningKey {
  kid: string;
  privateKey: PrivateKey;
  publicKey: PublicKey;
  jwk: JWK;
}

/** How the keys URL answers: normally, not at all (connection reset), an HTTP error, or never. */
export type EntraMode = 'up' | 'down' | 'error' | 'garbage' | 'slow';

export interface IdTokenOptions {
  /** Claims to add or override (undefined removes a default claim). */
  claims?: Record<string, unknown>;
  /** Sign with this key instead of the tenant's current one (e.g. an unpublished key). */
  key?: SigningKey;
  /** The kid put in the header (default: the signing key's). */
  kid?: string;
  /** "Now" for iat, nbf and exp (default: the real time). */
  now?: Date;
}

export function newTenantId(): string {
  return randomUUID();
}

/**
 * A loopback stand-in for Entra ID's key discovery: `GET /{tid}/discovery/v2.0/keys` serves
 * each registered tenant's public keys (RSA, made here), and the tests sign ID tokens with the
 * private halves. It can rotate keys, go down, answer garbage or hang.
 */
export class FakeEntra {
  readonly fetches: string[] = [];
  mode: EntraMode = 'up';
  private readonly tenants = new Map<string, SigningKey[]>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly server: Server = createServer((req, res) => this.handle(req, res));
  private base = '';

  private constructor(readonly clientId: string) {}

  static async start(clientId: string = randomUUID()): Promise<FakeEntra> {
    const entra = new FakeEntra(clientId);
    await new Promise<void>((resolve) => entra.server.listen(0, '127.0.0.1', resolve));
    entra.base = `http://127.0.0.1:${(entra.server.address() as AddressInfo).port}`;
    return entra;
  }

  /** MICROSOFT_AUTHORITY for the app under test. */
  get authority(): string {
    return this.base;
  }

  issuer(tid: string): string {
    return `${this.base}/${tid}/v2.0`;
  }

  keysPath(tid: string): string {
    return `/${tid}/discovery/v2.0/keys`;
  }

  /** How many times the app fetched this tenant's keys. */
  fetchesOf(tid: string): number {
    return this.fetches.filter((p) => p === this.keysPath(tid)).length;
  }

  /** Serves keys for the tenant (one fresh key unless given). */
  async addTenant(tid: string, keys?: SigningKey[]): Promise<void> {
    this.tenants.set(tid, keys ?? [await FakeEntra.newKey()]);
  }

  /** A new current key; the old ones stay published only when `keepOld`. */
  async rotate(tid: string, { keepOld = false } = {}): Promise<SigningKey> {
    const key = await FakeEntra.newKey();
    this.tenants.set(tid, keepOld ? [key, ...this.keysOf(tid)] : [key]);
    return key;
  }

  /** The published keys, current first. */
  keysOf(tid: string): SigningKey[] {
    const keys = this.tenants.get(tid);
    if (!keys) throw new Error(`fake Entra: unknown tenant ${tid}`);
    return keys;
  }

  static async newKey(kid: string = randomUUID()): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
    return { kid, privateKey, publicKey, jwk };
  }

  /** The claims Entra ID puts in a v2.0 ID token for this app. */
  defaultClaims(tid: string, now: Date = new Date()): JWTPayload & Record<string, unknown> {
    const iat = Math.floor(now.getTime() / 1000);
    return {
      ver: '2.0',
      iss: this.issuer(tid),
      aud: this.clientId,
      sub: randomUUID().replace(/-/g, ''),
      tid,
      oid: randomUUID(),
      iat,
      nbf: iat,
      exp: iat + 3600,
      name: 'Ana Lima',
      preferred_username: '21.01234-5@maua.br',
      email: '21.01234-5@maua.br',
      nonce: randomUUID(),
    };
  }

  /** An ID token of the tenant, signed RS256 with its current key unless told otherwise. */
  async idToken(tid: string, options: IdTokenOptions = {}): Promise<string> {
    const key = options.key ?? this.keysOf(tid)[0];
    const claims = withOverrides(this.defaultClaims(tid, options.now), options.claims);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? key.kid })
      .sign(key.privateKey);
  }

  /** The same claims, unsigned (`alg: none`). */
  unsignedIdToken(tid: string, options: IdTokenOptions = {}): string {
    const claims = withOverrides(this.defaultClaims(tid, options.now), options.claims);
    const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
  }

  /**
   * The classic confusion attack: HS256 with the tenant's *public* key (PEM, as published
   * anywhere) as the HMAC secret, and its kid in the header.
   */
  async hs256WithPublicKey(tid: string, options: IdTokenOptions = {}): Promise<string> {
    const key = this.keysOf(tid)[0];
    const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
    const claims = withOverrides(this.defaultClaims(tid, options.now), options.claims);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.kid })
      .sign(secret);
  }

  /** Answers every hanging request and closes the server. */
  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    this.fetches.push(path);
    switch (this.mode) {
      case 'down':
        req.socket.destroy();
        return;
      case 'error':
        res.writeHead(503, { 'content-type': 'text/plain' }).end('service unavailable');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [');
        return;
      case 'slow':
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return; // never answers
      case 'up':
        break;
    }
    const match = /^\/([^/]+)\/discovery\/v2\.0\/keys$/.exec(path);
    const keys = match ? this.tenants.get(match[1]) : undefined;
    if (req.method !== 'GET' || !keys) {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_tenant"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        keys: keys.map((k) => ({ ...k.jwk, x5t: k.kid, issuer: this.issuer(match![1]) })),
      }),
    );
  }
}

function withOverrides(
  claims: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
): JWTPayload {
  const out: Record<string, unknown> = { ...claims };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}
