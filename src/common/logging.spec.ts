import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { createLogger } from './logging';

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
});
