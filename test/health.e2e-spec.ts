import request from 'supertest';
import { createTestApp, TestApp } from './utils/test-app';

describe('GET /ping', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 200 {"status":"ok"} without a token when the database is up to date', async () => {
    const res = await request(t.server).get('/ping');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers 503 naming the pending migrations', async () => {
    const [row] = await t.dataSource.query<Array<{ id: number; timestamp: string; name: string }>>(
      'SELECT id, timestamp, name FROM migrations ORDER BY id DESC LIMIT 1',
    );
    await t.dataSource.query('DELETE FROM migrations WHERE id = $1', [row.id]);
    try {
      const res = await request(t.server).get('/ping');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        status: 'error',
        database: 'up',
        detail: '1 pending migration.',
        pending_migrations: [row.name],
      });
    } finally {
      await t.dataSource.query('INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)', [
        row.id,
        row.timestamp,
        row.name,
      ]);
    }
    expect((await request(t.server).get('/ping')).status).toBe(200);
  });
});

describe('GET /ping with the database gone', () => {
  it('answers 503 database down', async () => {
    const t = await createTestApp();
    try {
      await t.dataSource.destroy();
      const res = await request(t.server).get('/ping');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'error', database: 'down' });
    } finally {
      await t.app.close().catch(() => undefined);
    }
  });
});
