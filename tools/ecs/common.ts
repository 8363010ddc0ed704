/**
 * Exit codes of every CLI in tools/ (the deploy tool, the rotation trigger and the rotation
 * itself): one table, documented in docs/deploy.md ("Exit codes"). No AWS imports here: the
 * image runs tools/rotate-password.ts with production dependencies only.
 */
export const ExitCode = {
  OK: 0,
  /** An AWS call failed (permissions, a bad request) or another unexpected error. */
  UNEXPECTED: 1,
  /** Bad arguments, or arguments that do not fit the service (unknown container...). */
  USAGE: 2,
  /** The one-off task (the migration, the rotation) failed, or never started. */
  TASK_FAILED: 3,
  /** The deployment failed without a rollback, another one replaced it, or the smoke check failed. */
  DEPLOY_FAILED: 4,
  /** The service was rolled back to the previous revision (circuit breaker or --max-failed-tasks). */
  ROLLED_BACK: 5,
  /** A bounded wait ran out; what was started goes on in ECS. */
  TIMED_OUT: 6,
  /** The commit to deploy is not a descendant of the running one (--allow-older overrides). */
  OUT_OF_ORDER: 7,
  /** Another deployment of the service, or another rotation of the secret, is in progress. */
  BUSY: 8,
  /** The family's latest revision is not the service's: --from-latest or --from-service decides. */
  DRIFT: 9,
  /** Bad configuration (environment) of the rotation CLI: sysexits' EX_CONFIG. */
  CONFIG: 78,
  /** Interrupted by SIGINT (128 + 2): the one-off task it started was stopped. */
  INTERRUPTED_SIGINT: 130,
  /** Interrupted by SIGTERM (128 + 15): the one-off task it started was stopped. */
  INTERRUPTED_SIGTERM: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the tool explains itself: the message is printed and the process exits with code. */
export class ToolError extends Error {
  constructor(
    public readonly exitCode: ExitCodeValue,
    message: string,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The exit code for an interruption by a signal. */
export function interruptedCode(signal: StopSignal): ExitCodeValue {
  return signal === 'SIGINT' ? ExitCode.INTERRUPTED_SIGINT : ExitCode.INTERRUPTED_SIGTERM;
}

/** The signal an AbortSignal was aborted with (tools/lib/signals.ts aborts with the name). */
export function abortedBy(signal: AbortSignal | undefined): StopSignal | undefined {
  if (!signal?.aborted) return undefined;
  return signal.reason === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
}

/** Throws the interruption as a ToolError when the signal was aborted. */
export function throwIfInterrupted(signal: AbortSignal | undefined, what: string): void {
  const by = abortedBy(signal);
  if (by) throw new ToolError(interruptedCode(by), `interrupted by ${by}: ${what}`);
}

/** Time behind an interface so the tests run every wait instantly. */
export interface Waiter {
  now(): number;
  /** Resolves after ms, or at once when signal is aborted (before or during the sleep). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realWaiter: Waiter = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** A point in time every wait of one run shares, so the whole run is bounded. */
export class Deadline {
  private readonly at: number;

  constructor(
    private readonly waiter: Waiter,
    readonly totalMs: number,
    readonly signal?: AbortSignal,
  ) {
    this.at = waiter.now() + totalMs;
  }

  now(): number {
    return this.waiter.now();
  }

  remainingMs(): number {
    return Math.max(0, this.at - this.waiter.now());
  }

  expired(): boolean {
    return this.remainingMs() === 0;
  }

  /** Sleeps for ms, or less when the deadline comes first or the run is interrupted. */
  async sleep(ms: number): Promise<void> {
    await this.waiter.sleep(Math.min(ms, this.remainingMs()), this.signal);
  }
}

/** Where the tools print; console.log in the CLIs, an array in the tests. */
export type Output = (line: string) => void;

/** The last segment of an ARN: the task id of a task ARN. */
export function arnId(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** family:revision for a task definition ARN (or the input when it is not an ARN). */
export function shortTaskDefinition(arn: string | undefined): string {
  if (!arn) return '(none)';
  return arn.includes(':task-definition/') ? arn.slice(arn.indexOf('/') + 1) : arn;
}

/** Whole seconds, for messages. */
export function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
