import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { pendingMigrationNames } from '../database/migration-runner';

export type HealthReport =
  | { ok: true; body: { status: 'ok' } }
  | {
      ok: false;
      body: {
        status: 'error';
        detail: string;
        database: 'up' | 'down';
        pending_migrations?: string[];
      };
    };

const PING_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async check(): Promise<HealthReport> {
    let pending: string[];
    try {
      pending = await withTimeout(pendingMigrationNames(this.dataSource), PING_TIMEOUT_MS);
    } catch {
      return {
        ok: false,
        body: { status: 'error', detail: 'The database is not reachable.', database: 'down' },
      };
    }
    if (pending.length > 0) {
      return {
        ok: false,
        body: {
          status: 'error',
          detail: `${pending.length} pending migration${pending.length === 1 ? '' : 's'}.`,
          database: 'up',
          pending_migrations: pending,
        },
      };
    }
    return { ok: true, body: { status: 'ok' } };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
