/** Exit codes shared by the ECS tools (documented in docs/deploy.md, "The deploy tool"). */
export const ExitCode = {
  OK: 0,
  /** An AWS call failed (permissions, throttling, network) or another unexpected error. */
  UNEXPECTED: 1,
  /** Bad arguments, or arguments that do not fit the service (unknown container...). */
  USAGE: 2,
  /** The one-off task (the migration, the rotation) failed, or never started. */
  TASK_FAILED: 3,
  /** The service update failed (deployment FAILED without a rollback, or was replaced). */
  DEPLOY_FAILED: 4,
  /** The deployment circuit breaker rolled the service back to the previous revision. */
  ROLLED_BACK: 5,
  /** A bounded wait ran out; what was started goes on in ECS. */
  TIMED_OUT: 6,
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

/** Time behind an interface so the tests run every wait instantly. */
export interface Waiter {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realWaiter: Waiter = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A point in time every wait of one run shares, so the whole run is bounded. */
export class Deadline {
  private readonly at: number;

  constructor(
    private readonly waiter: Waiter,
    readonly totalMs: number,
  ) {
    this.at = waiter.now() + totalMs;
  }

  remainingMs(): number {
    return Math.max(0, this.at - this.waiter.now());
  }

  expired(): boolean {
    return this.remainingMs() === 0;
  }

  /** Sleeps for ms, or less when the deadline comes first. */
  async sleep(ms: number): Promise<void> {
    await this.waiter.sleep(Math.min(ms, this.remainingMs()));
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
