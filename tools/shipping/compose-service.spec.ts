import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  durationSeconds,
  interpolate,
  serviceRun,
} from '../../scripts/image-check/compose-service';
import { MIGRATION_COMMAND } from '../ecs/deploy';

/** How scripts/image-check.sh reads docker/docker-compose.yml's services (no compose engine). */
const compose = readFileSync(join(__dirname, '..', '..', 'docker', 'docker-compose.yml'), 'utf8');

describe('compose-service (the image check reads the compose file)', () => {
  it('interpolates as compose does with no variable set', () => {
    expect(interpolate('${JWT_SECRET:-local-secret}')).toBe('local-secret');
    expect(interpolate('${A-x}/${B}/$C/$$HOME')).toBe('x///$HOME');
    expect(interpolate('plain')).toBe('plain');
    expect(() => interpolate('${NEEDED:?set it}')).toThrow(/NEEDED is required: set it/);
  });

  it('reads compose durations', () => {
    expect(durationSeconds('30s')).toBe(30);
    expect(durationSeconds('1m30s')).toBe(90);
    expect(durationSeconds(undefined)).toBe(10);
    expect(() => durationSeconds('soon')).toThrow(/bad duration/);
  });

  it('runs the migrate service with its command and the database alone', () => {
    const run = serviceRun(compose, 'migrate', 'postgres://postgres@127.0.0.1:5432/check');
    expect(run.command).toEqual(MIGRATION_COMMAND);
    expect(run.env).toEqual({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/check' });
    expect(run.image).toBe('portal-api:local');
  });

  it('runs the api service with the image CMD, its environment and grace period', () => {
    const run = serviceRun(compose, 'api', 'postgres://postgres@127.0.0.1:5432/check');
    expect(run.command).toBeNull();
    expect(run.env.NODE_ENV).toBe('production');
    expect(run.env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/check');
    expect(run.stopGraceSeconds).toBe(30);
    for (const value of Object.values(run.env)) expect(value).not.toContain('${');
  });

  it('keeps the file URL without an override, and refuses an unknown service', () => {
    expect(serviceRun(compose, 'migrate').env.DATABASE_URL).toBe(
      'postgres://portal:portal@postgres:5432/portal',
    );
    expect(() => serviceRun(compose, 'nope')).toThrow(/no service "nope"/);
  });
});
