import {
  abortedBy,
  Deadline,
  ExitCode,
  interruptedCode,
  Output,
  seconds,
  ToolError,
} from './common';

/** One request may take this long. */
export const SMOKE_REQUEST_TIMEOUT_MS = 10_000;

/** URL/ping: the health route the load balancer checks too. */
export function pingUrl(base: string): string {
  const url = new URL(base);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return new URL('ping', url).toString();
}

function describeError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.name}: ${e.message}${cause ? ` (${cause})` : ''}`;
}

export interface SmokeOptions {
  /** Pause between two attempts. */
  intervalMs: number;
  /** How long /ping may take to answer 200 (--smoke-timeout), within the run's deadline. */
  timeoutMs: number;
}

/**
 * After the deployment completed: GET <url>/ping until it answers 200. Anything else until the
 * smoke timeout (or the run's deadline) fails the deployment (DEPLOY_FAILED).
 */
export async function smokeCheck(
  base: string,
  deadline: Deadline,
  out: Output,
  opts: SmokeOptions,
): Promise<void> {
  const url = pingUrl(base);
  const until = deadline.now() + opts.timeoutMs;
  let last = '';
  for (let attempt = 1; ; attempt++) {
    let answer: string;
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(SMOKE_REQUEST_TIMEOUT_MS),
        redirect: 'manual',
      });
      await res.arrayBuffer();
      if (res.status === 200) {
        out(`smoke check: GET ${url} answered 200 (attempt ${attempt})`);
        return;
      }
      answer = `HTTP ${res.status}`;
    } catch (err) {
      answer = describeError(err);
    }
    if (answer !== last) out(`  smoke check: GET ${url}: ${answer}`);
    last = answer;
    const by = abortedBy(deadline.signal);
    if (by) throw new ToolError(interruptedCode(by), `interrupted by ${by} during the smoke check`);
    if (deadline.now() >= until || deadline.expired()) {
      throw new ToolError(
        ExitCode.DEPLOY_FAILED,
        `the smoke check failed: GET ${url} did not answer 200 within ` +
          `${seconds(Math.min(opts.timeoutMs, deadline.totalMs))} s (last: ${last}, ` +
          `${attempt} attempts); the service runs the new revision`,
      );
    }
    await deadline.sleep(Math.min(opts.intervalMs, until - deadline.now()));
  }
}
