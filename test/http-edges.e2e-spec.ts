import { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import { testDatabaseUrl } from './setup/test-database';
import { truncateAll } from './utils/db';
import { bearer, createUser } from './utils/factories';
import { createTestApp, TestApp } from './utils/test-app';

const PROBLEM = /^application\/problem\+json/;

/** Writes raw bytes to the listening app and collects what comes back until it closes. */
function raw(port: number, data: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', finish);
    socket.on('error', finish);
    socket.connect(port, '127.0.0.1', () => socket.write(data));
  });
}

function statusLines(answer: string): number[] {
  return [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** Edges found by the reliability suite (test/reliability): each answered with problem+json. */
describe('HTTP edges answer problem+json', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a deeply nested JSON body with 400 (it used to overflow the stack: 500)', async () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const res = await request(t.server)
      .post('/ping')
      .set('content-type', 'application/json')
      .send(deep);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toEqual({
      type: 'urn:portal-api:problem:body_too_deep',
      title: 'Bad Request',
      status: 400,
      detail: 'The JSON body nests deeper than 32 levels.',
    });
    // Ordinary JSON and prototype poisoning still go through fastify's parser.
    const poisoned = await request(t.server)
      .post('/ping')
      .set('content-type', 'application/json')
      .send('{"__proto__":{"role":"ADM"}}');
    expect(poisoned.status).toBe(400);
    expect(poisoned.headers['content-type']).toMatch(PROBLEM);
  });

  it('answers a URL that cannot be decoded with 400 problem+json', async () => {
    const res = await request(t.server).get('/users/%FF');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toMatchObject({ type: 'urn:portal-api:problem:bad_request', status: 400 });
  });

  it('answers bytes that are not HTTP with 400, and oversized headers with 431, as problem+json', async () => {
    const broken = await raw(port, 'GET /ping HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(broken).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(broken).toMatch(/content-type: application\/problem\+json/i);
    expect(JSON.parse(broken.split('\r\n\r\n')[1])).toEqual({
      type: 'urn:portal-api:problem:bad_request',
      title: 'Bad Request',
      status: 400,
      detail: 'The request is not valid HTTP.',
    });
    const huge = await raw(
      port,
      `GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(huge.split('\r\n\r\n')[1])).toMatchObject({
      type: 'urn:portal-api:problem:request_header_fields_too_large',
      status: 431,
    });
  });
});

describe('shutdown', () => {
  it('finishes the request in flight with Connection: close and lets go of the keep-alive connection at once', async () => {
    const t = await createTestApp();
    await truncateAll(t.dataSource);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const user = await createUser(t.dataSource);
    const auth = await bearer(t, user);

    // Hold the users table so the first request is still running when the app starts closing.
    const locker = new Client({ connectionString: testDatabaseUrl() });
    await locker.connect();
    let closing: Promise<void> | undefined;
    const socket = new Socket();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
      // A keep-alive request (HTTP/1.1 default), then shutdown starts while it waits.
      socket.write(`GET /users/me HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\n\r\n`);
      await new Promise((r) => setTimeout(r, 300));
      closing = t.close();
      while (t.app.getHttpServer().listening) await new Promise((r) => setTimeout(r, 20));
      // The listener is closed; a second request arrives on the open connection.
      socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => setTimeout(r, 100));
      await locker.query('COMMIT');

      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ended, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
      // The server closed the connection itself, right after answering (not keepAliveTimeout).
      expect(Date.now() - started).toBeLessThan(5000);
      await closing;
      const text = Buffer.concat(chunks).toString('latin1');
      // The request in flight completes; its answer closes the connection, so the late request
      // gets no answer (HTTP/1.1: the client retries it elsewhere), never a keep-alive 200.
      expect(statusLines(text)).toEqual([200]);
      expect(text).toMatch(/\r\nconnection: close\r\n/i);
      expect(text).toContain(`"id":"${user.id}"`);
    } finally {
      socket.destroy();
      await locker.end();
      await (closing ?? t.close());
    }
  }, 30_000);
});
