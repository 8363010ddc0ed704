import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedClusterDir } from './embedded-postgres';

export interface RunningEmbeddedPostgres {
  url: string;
  pid: number;
  port: number;
  /** The cluster folder whose postmaster.pid named it. */
  dir: string;
}

/**
 * The embedded PostgreSQL already serving the data folder `dir` (e.g. started by `npm start`),
 * read from its cluster's postmaster.pid (line 1: the server's pid, line 4: its port); null
 * when no live server holds the folder (no file, or a stale one left by a crash).
 */
export function findRunningEmbeddedPostgres(
  dir: string | undefined,
  database = 'portal',
): RunningEmbeddedPostgres | null {
  const cluster = embeddedClusterDir(dir);
  let lines: string[];
  try {
    lines = readFileSync(join(cluster, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, but another user's (the postgres user, when started as root).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${database}`,
    pid,
    port,
    dir: cluster,
  };
}
