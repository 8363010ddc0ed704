import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** Every process the bench started, so a failure or Ctrl-C can stop them all. */
const started = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
});

export interface NodeProcess {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>;
  exited(): boolean;
}

/** `node <script>` with its output appended to `logFile` (the bench keeps the console tidy). */
export function spawnNode(script: string, env: NodeJS.ProcessEnv, logFile: string): NodeProcess {
  const fd = openSync(logFile, 'a');
  const startedAt = performance.now();
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  started.add(child);
  const exit = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      started.delete(child);
      resolve(code);
    });
  });
  if (child.pid === undefined) throw new Error(`could not start node ${script}`);
  return {
    child,
    pid: child.pid,
    startedAt,
    logFile,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `url` every `intervalMs` until it answers 200; resolves with the time of that answer
 * (performance.now()). Bounded: fails after `timeoutMs`, or at once if the process exits.
 */
export async function waitForOk(
  url: string,
  proc: NodeProcess | undefined,
  timeoutMs = 60_000,
  intervalMs = 10,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 1;
  for (let attempt = 0; attempt < maxAttempts && performance.now() < deadline; attempt++) {
    if (proc?.exited()) throw new Error(`the process exited before ${url} answered 200`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    await sleep(intervalMs);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** Resident set size of a process in bytes (Linux /proc; elsewhere `ps`); null if gone. */
export function rssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    try {
      const out = execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
      const kb = Number(out.trim());
      return Number.isFinite(kb) && kb > 0 ? kb * 1024 : null;
    } catch {
      return null;
    }
  }
}

/** CPU time (user + system) a process has used so far, in ms; null where /proc is missing. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return Number.isFinite(ticks) ? ticks * (1000 / CLOCK_TICKS) : null;
  } catch {
    return null;
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Samples a process's RSS every `intervalMs` until stopped; keeps the peak. */
export class RssSampler {
  private timer?: NodeJS.Timeout;
  private peak = 0;
  private samples = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  stop(): { peakBytes: number; samples: number } {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return { peakBytes: this.peak, samples: this.samples };
  }

  private sample(): void {
    const rss = rssBytes(this.pid);
    if (rss === null) return;
    this.samples++;
    if (rss > this.peak) this.peak = rss;
  }
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
