import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { Deadline, ExitCode, Output, seconds, throwIfInterrupted, ToolError } from './common';

/** The longest pause between two attempts of a failing call. */
export const MAX_RETRY_DELAY_MS = 30_000;

/**
 * What the SDK's own retry strategy retries: throttling (429, ThrottlingException...), 5xx and
 * service faults, timeouts and dropped connections. Permission and validation errors are not.
 */
export function isRetryable(err: unknown): boolean {
  if (!err || typeof err !== 'object' || err instanceof ToolError) return false;
  const e = err as Parameters<typeof isTransientError>[0] & { $fault?: string };
  return e.$fault === 'server' || isThrottlingError(e) || isTransientError(e) || isServerError(e);
}

export interface RetryContext {
  deadline: Deadline;
  out: Output;
  /** The call, for messages: "DescribeServices". */
  what: string;
  /** The first pause after a failure; it doubles up to MAX_RETRY_DELAY_MS. */
  delayMs: number;
}

/**
 * Calls fn until it succeeds. A retryable error (see isRetryable) is retried until the deadline,
 * after the SDK's own retries are spent: ECS carries on through a throttle or a blip, so the
 * wait does too. Any other error is thrown at once; when the deadline passes, TIMED_OUT.
 */
export async function withRetries<T>(fn: () => Promise<T>, ctx: RetryContext): Promise<T> {
  let delay = ctx.delayMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err)) throw err;
      const e = err as Error;
      const why = `${e.name}: ${e.message}`;
      throwIfInterrupted(ctx.deadline.signal, `${ctx.what} had failed (${why})`);
      if (ctx.deadline.expired()) {
        throw new ToolError(
          ExitCode.TIMED_OUT,
          `${ctx.what} kept failing until the ${seconds(ctx.deadline.totalMs)} s deadline (${why}); ` +
            'ECS goes on with what was started',
        );
      }
      ctx.out(`  ${ctx.what} failed (${why}); retrying in ${seconds(delay)} s`);
      await ctx.deadline.sleep(delay);
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    }
  }
}
