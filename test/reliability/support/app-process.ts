import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../../../src/common/free-port';
import { httpRequest } from './http';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const MAIN_JS = join(ROOT, 'dist', 'src', 'main.js');
export const MIGRATE_JS = join(ROOT, 'dist', 'src', 'database', 'migrate.js');
export const REL_JWT_SECRET = 'reliability-secret-reliability-secret-0123';

export function assertBuilt(): void {
  if (!existsSync(MAIN_JS)) {
    throw new Error(
      `${MAIN_JS} is missing: run \`npm run build\` first (\`npm run test:reliability\` does)`,
    );
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The environment every spawned process gets: nothing of the caller's but PATH and HOME. */
function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    JWT_SECRET: REL_JWT_SECRET,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Keeps the last lines a process printed, and its first complaints, for failure messages. */
class Tail {
  private readonly lines: string[] = [];
  /** warn/error/fatal log lines and anything that is not a JSON log line (a crash trace). */
  readonly complaints: string[] = [];
  private partial = '';
  constructor(private readonly max = 400) {}
  push(chunk: Buffer): void {
    const text = this.partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
      if (
        this.complaints.length < 500 &&
        (!line.startsWith('{') || /"level":"(warn|error|fatal)"/.test(line))
      ) {
        this.complaints.push(line);
      }
    }
  }
  all(): string[] {
    return [...this.lines];
  }
  toString(): string {
    return this.lines.slice(-60).join('\n');
  }
}

/** A real `node dist/src/main.js` process on a free loopback port. */
export class AppProcess {
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;

  private constructor(
    readonly port: number,
    readonly proc: ChildProcess,
    readonly output: Tail,
  ) {
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  static async start(
    env: Record<string, string>,
    {
      readyTimeoutMs = 30_000,
      nodeArgs = [],
    }: {
      readyTimeoutMs?: number;
      /** Options for node before the script, e.g. ['--import', preload]. */
      nodeArgs?: string[];
    } = {},
  ): Promise<AppProcess> {
    assertBuilt();
    const port = await freePort();
    const proc = spawn(process.execPath, [...nodeArgs, MAIN_JS], {
      cwd: ROOT,
      env: baseEnv({ PORT: String(port), ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = new Tail();
    proc.stdout.on('data', (c: Buffer) => output.push(c));
    proc.stderr.on('data', (c: Buffer) => output.push(c));
    const app = new AppProcess(port, proc, output);
    try {
      await app.waitUntilListening(readyTimeoutMs);
    } catch (err) {
      await app.kill();
      throw err;
    }
    return app;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The last lines the process printed (JSON log lines from pino, mostly). */
  logs(): string[] {
    return this.output.all();
  }

  /** Its warn/error/fatal lines and any non-JSON output (the first 500). */
  complaints(): string[] {
    return [...this.output.complaints];
  }

  private async waitUntilListening(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exit) {
        throw new Error(
          `the app exited during start (${JSON.stringify(this.exit)}):\n${this.output.toString()}`,
        );
      }
      // Any HTTP answer means the server listens (/ping may well say 503 here).
      const res = await httpRequest(this.port, { path: '/ping', timeoutMs: 2000 });
      if (res.status > 0) return;
      await sleep(100);
    }
    throw new Error(`the app did not listen within ${timeoutMs} ms:\n${this.output.toString()}`);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.proc.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async kill(graceMs = 10_000): Promise<Exit> {
    if (!this.running) return this.exit!;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `npm run migration:run` as the deploy tool runs it: the compiled migrate entry point. */
export async function runMigrations(databaseUrl: string): Promise<void> {
  assertBuilt();
  const proc = spawn(process.execPath, [MIGRATE_JS], {
    cwd: ROOT,
    env: baseEnv({ DATABASE_URL: databaseUrl }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new Tail();
  proc.stdout.on('data', (c: Buffer) => output.push(c));
  proc.stderr.on('data', (c: Buffer) => output.push(c));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`migrate exited ${code}:\n${output.toString()}`);
}

/** Runs an npm script of this package with the given environment; resolves with its exit code. */
export function spawnNpmScript(
  script: string,
  env: Record<string, string>,
): { proc: ChildProcess; exited: Promise<Exit>; output: () => string } {
  const proc = spawn('npm', ['run', '--silent', script], {
    cwd: ROOT,
    env: baseEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new Tail();
  proc.stdout.on('data', (c: Buffer) => output.push(c));
  proc.stderr.on('data', (c: Buffer) => output.push(c));
  const exited = new Promise<Exit>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, exited, output: () => output.toString() };
}

/** The promise's value, or undefined once `ms` have passed (the timer never outlives it). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await probe()) return Date.now() - started;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
