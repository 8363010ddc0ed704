import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { AuditLogEntry } from '../src/audit/entities/audit-log.entity';
import { User } from '../src/users/entities/user.entity';
import { ActiveStatus, Role, UserState } from '../src/users/user.enums';
import { truncateAll } from './utils/db';
import { createUser } from './utils/factories';
import { createTestApp, TestApp } from './utils/test-app';

const PROBLEM = /application\/problem\+json/;
const MS_ID = '6f1c2b9e-4d5a-4c3b-8a1f-0e2d3c4b5a69';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 standing in for Microsoft Graph's /me. */
class FakeGraph {
  handler: Handler = (_req, res) => res.writeHead(500).end();
  readonly seen: IncomingMessage[] = [];
  private readonly server: Server = createServer((req, res) => {
    this.seen.push(req);
    this.handler(req, res);
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/v1.0/me`;
  }

  /** Answers 200 with this user (Graph's field names). */
  user(body: Record<string, unknown>): void {
    this.handler = (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function graphUser(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
    id: MS_ID,
    displayName: 'Ana Lima',
    givenName: 'Ana',
    surname: 'Lima',
    mail: '21.01234-5@maua.br',
    userPrincipalName: '21.01234-5@maua.br',
    ...overrides,
  };
}

describe('POST /auth/microsoft', () => {
  let graph: FakeGraph;
  let t: TestApp;

  const signIn = (accessToken: unknown = 'graph-token-1') =>
    request(t.server).post('/auth/microsoft').send({ access_token: accessToken });
  const users = () => t.dataSource.getRepository(User).find({ order: { email: 'ASC' } });

  beforeAll(async () => {
    graph = new FakeGraph();
    const endpoint = await graph.start();
    t = await createTestApp({ GRAPH_ENDPOINT: endpoint, GRAPH_TIMEOUT_MS: '300' });
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
    graph.seen.length = 0;
  });
  afterAll(async () => {
    await t.close();
    await graph.stop();
  });

  describe('Graph says who it is', () => {
    it('creates the user on first sign-in (USER, PENDING, ACTIVE, RA from the address)', async () => {
      graph.user(graphUser());
      const res = await signIn();
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        token_type: 'bearer',
        expires_in: 900,
        refresh_token: expect.any(String),
        refresh_expires_in: 7 * 86400,
      });
      expect(graph.seen).toHaveLength(1);
      expect(graph.seen[0].method).toBe('GET');
      expect(graph.seen[0].url).toBe('/v1.0/me');
      expect(graph.seen[0].headers.authorization).toBe('Bearer graph-token-1');

      const all = await users();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({
        name: 'Ana Lima',
        email: '21.01234-5@maua.br',
        ra: '21.01234-5',
        role: Role.USER,
        organization: null,
        state: UserState.PENDING,
        active: ActiveStatus.ACTIVE,
        microsoftId: MS_ID,
      });
      expect(all[0].lastLoginAt).not.toBeNull();

      const me = await request(t.server)
        .get('/users/me')
        .set('authorization', `Bearer ${res.body.access_token}`);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: all[0].id, email: '21.01234-5@maua.br', role: 'USER' });

      const audit = await t.dataSource.getRepository(AuditLogEntry).find();
      expect(audit).toEqual([
        expect.objectContaining({ action: 'user.create', targetId: all[0].id }),
      ]);
    });

    it('reuses the user on the next sign-in', async () => {
      graph.user(graphUser());
      await signIn().expect(200);
      const [first] = await users();
      graph.user(graphUser({ displayName: 'Ana Lima Souza' }));
      await signIn('graph-token-2').expect(200);
      const all = await users();
      expect(all).toHaveLength(1);
      expect(all[0].id).toBe(first.id);
      expect(all[0].name).toBe('Ana Lima'); // ours to edit, not Graph's
    });

    it('finds an existing user by email in any case and links the Microsoft id', async () => {
      const existing = await createUser(t.dataSource, {
        email: 'ana.lima@maua.br',
        role: Role.PRESIDENT,
      });
      graph.user(graphUser({ mail: 'Ana.Lima@MAUA.br' }));
      const res = await signIn();
      expect(res.status).toBe(200);
      const all = await users();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({
        id: existing.id,
        role: Role.PRESIDENT,
        ra: null,
        microsoftId: MS_ID,
      });
      const claims = JSON.parse(
        Buffer.from(res.body.access_token.split('.')[1], 'base64url').toString(),
      );
      expect(claims).toMatchObject({ sub: existing.id });
    });

    it('updates a different stored Microsoft id', async () => {
      const existing = await createUser(t.dataSource, {
        email: 'ana.lima@maua.br',
        microsoftId: 'an-older-object-id',
      });
      graph.user(graphUser({ mail: 'ana.lima@maua.br' }));
      await signIn().expect(200);
      const all = await users();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ id: existing.id, microsoftId: MS_ID });
    });

    it('moves the Microsoft id when the same account now has another address', async () => {
      const old = await createUser(t.dataSource, {
        email: 'ana.old@maua.br',
        microsoftId: MS_ID,
      });
      graph.user(graphUser({ mail: 'ana.new@maua.br' }));
      await signIn().expect(200);
      const all = await users();
      expect(all.map((u) => [u.email, u.microsoftId])).toEqual([
        ['ana.new@maua.br', MS_ID],
        ['ana.old@maua.br', null],
      ]);
      expect(all[1].id).toBe(old.id);
    });

    it('falls back to userPrincipalName when mail is null; no RA for a non-student address', async () => {
      graph.user(graphUser({ mail: null, userPrincipalName: 'Prof.X@Maua.br', displayName: 'X' }));
      await signIn().expect(200);
      const [user] = await users();
      expect(user).toMatchObject({ email: 'prof.x@maua.br', ra: null, name: 'prof.x' });
    });

    it('two first sign-ins at once create one user, and both get a token', async () => {
      graph.user(graphUser());
      const results = await Promise.all(Array.from({ length: 5 }, () => signIn()));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(await users()).toHaveLength(1);
    });
  });

  describe('refusals', () => {
    it('401 when Graph refuses the token; nobody is created', async () => {
      graph.handler = (_req, res) =>
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: 'InvalidAuthenticationToken' } }));
      const res = await signIn('expired-token');
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toEqual({
        type: 'urn:portal-api:problem:microsoft_token_rejected',
        title: 'Unauthorized',
        status: 401,
        detail: 'Microsoft did not accept the access token.',
      });
      expect(await users()).toHaveLength(0);
    });

    it('401 for a 403 from Graph too', async () => {
      graph.handler = (_req, res) => res.writeHead(403).end();
      const res = await signIn();
      expect(res.status).toBe(401);
      expect(res.body.type).toBe('urn:portal-api:problem:microsoft_token_rejected');
    });

    it('503 quickly when Graph is slower than GRAPH_TIMEOUT_MS', async () => {
      graph.handler = () => undefined; // never answers
      const started = Date.now();
      const res = await signIn();
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toEqual({
        type: 'urn:portal-api:problem:microsoft_graph_unavailable',
        title: 'Service Unavailable',
        status: 503,
        detail: expect.any(String),
      });
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(2000);
    });

    it('503 when Graph sends headers but never finishes the body', async () => {
      graph.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id": "');
      };
      const started = Date.now();
      const res = await signIn();
      expect(res.status).toBe(503);
      expect(res.body.type).toBe('urn:portal-api:problem:microsoft_graph_unavailable');
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('503 for malformed JSON', async () => {
      graph.handler = (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"id": "x", "mail": ');
      const res = await signIn();
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.type).toBe('urn:portal-api:problem:microsoft_graph_unavailable');
      expect(JSON.stringify(res.body)).not.toMatch(/SyntaxError|at .*\.js/);
    });

    it.each([
      ['no id', { id: undefined }],
      ['no address', { mail: null, userPrincipalName: null }],
      ['an address that is not an email', { mail: 'nope', userPrincipalName: 'nope' }],
    ])('503 when Graph answers without usable fields (%s)', async (_what, overrides) => {
      graph.user(graphUser(overrides));
      const res = await signIn();
      expect(res.status).toBe(503);
      expect(res.body.type).toBe('urn:portal-api:problem:microsoft_graph_unavailable');
      expect(await users()).toHaveLength(0);
    });

    it('503 when Graph answers with an oversized body', async () => {
      graph.user(graphUser({ displayName: 'x'.repeat(100_000) }));
      const res = await signIn();
      expect(res.status).toBe(503);
      expect(res.body.type).toBe('urn:portal-api:problem:microsoft_graph_unavailable');
    });

    it('503 when Graph itself fails (5xx)', async () => {
      graph.handler = (_req, res) => res.writeHead(502).end('bad gateway');
      const res = await signIn();
      expect(res.status).toBe(503);
      expect(res.body.type).toBe('urn:portal-api:problem:microsoft_graph_unavailable');
    });

    it('503 when Graph drops the connection', async () => {
      graph.handler = (req) => req.socket.destroy();
      const res = await signIn();
      expect(res.status).toBe(503);
    });

    it('429 with Retry-After for a locked account', async () => {
      await createUser(t.dataSource, {
        email: '21.01234-5@maua.br',
        failedLoginCount: 5,
        lockedUntil: new Date(Date.now() + 10 * 60_000),
      });
      graph.user(graphUser());
      const res = await signIn();
      expect(res.status).toBe(429);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(590);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(600);
      expect(res.body.type).toBe('urn:portal-api:problem:account_locked');
    });

    it.each([ActiveStatus.DISCONNECTED, ActiveStatus.FREEZED])(
      '401 account_inactive for a %s user',
      async (active) => {
        const user = await createUser(t.dataSource, { email: '21.01234-5@maua.br', active });
        graph.user(graphUser());
        const res = await signIn();
        expect(res.status).toBe(401);
        expect(res.body).toEqual({
          type: 'urn:portal-api:problem:account_inactive',
          title: 'Unauthorized',
          status: 401,
          detail: 'This account is not active.',
        });
        const [after] = await users();
        expect(after.lastLoginAt).toBeNull();
        expect(after.id).toBe(user.id);
      },
    );

    it.each([
      ['no access_token', {}, 'access_token'],
      ['an empty access_token', { access_token: '' }, 'access_token'],
      ['a numeric access_token', { access_token: 42 }, 'access_token'],
      ['an access_token with a line break', { access_token: 'abc\r\nX-Evil: 1' }, 'access_token'],
      ['an unknown field', { access_token: 'abc', email: 'a@maua.br' }, 'email'],
    ])('400 for %s, without calling Graph', async (_what, body, field) => {
      const res = await request(t.server).post('/auth/microsoft').send(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.type).toBe('urn:portal-api:problem:validation_failed');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(graph.seen).toHaveLength(0);
    });
  });
});

describe('POST /auth/microsoft with ALLOWED_EMAIL_DOMAINS', () => {
  let graph: FakeGraph;
  let t: TestApp;

  beforeAll(async () => {
    graph = new FakeGraph();
    t = await createTestApp({
      GRAPH_ENDPOINT: await graph.start(),
      GRAPH_TIMEOUT_MS: '300',
      ALLOWED_EMAIL_DOMAINS: 'maua.br, example.org',
    });
  });
  beforeEach(async () => {
    await truncateAll(t.dataSource);
  });
  afterAll(async () => {
    await t.close();
    await graph.stop();
  });

  it('403 for another domain; nobody is created', async () => {
    graph.user(graphUser({ mail: 'someone@gmail.com' }));
    const res = await request(t.server).post('/auth/microsoft').send({ access_token: 'tok' });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toEqual({
      type: 'urn:portal-api:problem:email_domain_not_allowed',
      title: 'Forbidden',
      status: 403,
      detail: expect.any(String),
    });
    expect(await t.dataSource.getRepository(User).count()).toBe(0);
  });

  it('403 for a look-alike or sub-domain', async () => {
    for (const mail of ['a@evilmaua.br', 'a@sub.maua.br']) {
      graph.user(graphUser({ mail }));
      const res = await request(t.server).post('/auth/microsoft').send({ access_token: 'tok' });
      expect(res.status).toBe(403);
    }
  });

  it('200 for a listed domain, in any case', async () => {
    graph.user(graphUser({ mail: 'Ana@Example.ORG' }));
    await request(t.server).post('/auth/microsoft').send({ access_token: 'tok' }).expect(200);
    graph.user(graphUser({ id: 'another-id', mail: 'bia@maua.br' }));
    await request(t.server).post('/auth/microsoft').send({ access_token: 'tok' }).expect(200);
    expect(await t.dataSource.getRepository(User).count()).toBe(2);
  });
});

describe('POST /auth/microsoft when Graph is down', () => {
  it('503 for a closed port, without hanging', async () => {
    const graph = new FakeGraph();
    const endpoint = await graph.start();
    await graph.stop(); // nothing listens there any more
    const t = await createTestApp({ GRAPH_ENDPOINT: endpoint, GRAPH_TIMEOUT_MS: '300' });
    try {
      const started = Date.now();
      const res = await request(t.server).post('/auth/microsoft').send({ access_token: 'tok' });
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toEqual({
        type: 'urn:portal-api:problem:microsoft_graph_unavailable',
        title: 'Service Unavailable',
        status: 503,
        detail: expect.any(String),
      });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await t.close();
    }
  });
});
