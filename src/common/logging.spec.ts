import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { setActiveTracing } from '../observability/telemetry-state';
import type { Tracing } from '../observability/tracing';
import { createLogger, redactUrl } from './logging';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('logs a failed query with its SQL but never its parameters (emails, password hashes)', () => {
    const out = capture();
    const logger = createLogger('info', out.stream);
    const err = new QueryFailedError(
      'INSERT INTO "users"("email", "password_hash") VALUES ($1, $2)',
      ['ana@example.com', '$2b$12$abcdefghijklmnopqrstuv'],
      new Error('Connection terminated unexpectedly'),
    );
    logger.error({ err, status: 503 }, 'The database is unavailable; try again shortly.');
    const [line] = out.lines();
    expect(line).toMatchObject({
      level: 'error',
      status: 503,
      err: {
        type: 'QueryFailedError',
        message: 'Connection terminated unexpectedly',
        query: 'INSERT INTO "users"("email", "password_hash") VALUES ($1, $2)',
      },
    });
    expect(line.err).not.toHaveProperty('parameters');
    expect(JSON.stringify(line)).not.toMatch(/ana@example\.com|\$2b\$12\$/);
  });

  it('redacts credentials in logged objects', () => {
    const out = capture();
    createLogger('info', out.stream).info({ body: { password: 'hunter2hunter2' } }, 'x');
    expect(out.lines()[0]).toMatchObject({ body: { password: '[redacted]' } });
  });

  it('never logs a stream ticket: the request URL keeps the rest of its query', () => {
    const out = capture();
    const url =
      '/warnings/stream?last_event_id=4&ticket=Jx2m0vQ4k3mV1d0yZ8bQwq9Yk0v7p5bR2sH6tL1nC3e';
    createLogger('info', out.stream).info({ req: { id: 'r1', method: 'GET', url } }, 'x');
    expect(out.lines()[0]).toMatchObject({
      req: { url: '/warnings/stream?last_event_id=4&ticket=[redacted]' },
    });
    expect(redactUrl('/x?TICKET=a&b=1')).toBe('/x?TICKET=[redacted]&b=1');
    expect(redactUrl('/warnings?ticketx=1')).toBe('/warnings?ticketx=1');
  });

  it('with tracing on, every line carries the active trace and span ids; off, none', () => {
    const plain = capture();
    createLogger('info', plain.stream).info('x');
    expect(plain.lines()[0]).not.toHaveProperty('trace_id');
    const fields = { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' };
    setActiveTracing({ logFields: () => fields } as unknown as Tracing);
    try {
      const traced = capture();
      createLogger('info', traced.stream).info('y');
      expect(traced.lines()[0]).toMatchObject(fields);
    } finally {
      setActiveTracing(undefined);
    }
  });
});
