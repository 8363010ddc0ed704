import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { arnId, Output } from './common';

export type LogsClientFactory = (region: string | undefined) => CloudWatchLogsClient;

/** Lines of a stopped service task's log printed when a deployment fails. */
export const TAIL_LINES = 20;
/** GetLogEvents calls after a one-off task stopped, to print what it wrote last. */
const DRAIN_CALLS = 10;

export type LogStream = { group: string; region?: string; stream: string } | { missing: string };

/** Where the awslogs driver writes a task's container: group, region and stream. */
export function logStreamOf(td: TaskDefinition, containerName: string, taskArn: string): LogStream {
  const container = td.containerDefinitions?.find((c) => c.name === containerName);
  const logConfig = container?.logConfiguration;
  if (logConfig?.logDriver !== 'awslogs') {
    return { missing: `container "${containerName}" does not log with the awslogs driver` };
  }
  const options = logConfig.options ?? {};
  const group = options['awslogs-group'];
  const prefix = options['awslogs-stream-prefix'];
  if (!group || !prefix) {
    return { missing: 'awslogs-group or awslogs-stream-prefix is not set' };
  }
  return {
    group,
    region: options['awslogs-region'],
    stream: `${prefix}/${containerName}/${arnId(taskArn)}`,
  };
}

const printable = (message: string | undefined) => (message ?? '').replace(/\s+$/, '');

/**
 * Prints a one-off task's log lines as they arrive: each poll() reads what was written since
 * the last one (GetLogEvents from the head, then nextForwardToken). Never fails the run: the
 * stream does not exist until the container starts, and a missing permission is only a note.
 */
export class LogFollower {
  private token: string | undefined;
  private printed = 0;
  private note: string | undefined;

  constructor(
    private readonly where: LogStream,
    private readonly logsFor: LogsClientFactory,
    private readonly out: Output,
  ) {}

  /** One GetLogEvents call; true when it returned new lines. */
  async poll(): Promise<boolean> {
    if ('missing' in this.where) return false;
    const { group, stream, region } = this.where;
    try {
      const res = await this.logsFor(region).send(
        new GetLogEventsCommand({
          logGroupName: group,
          logStreamName: stream,
          startFromHead: true,
          ...(this.token ? { nextToken: this.token } : {}),
        }),
      );
      const events = res.events ?? [];
      if (this.printed === 0 && events.length > 0) this.out(`  --- ${group} ${stream} ---`);
      for (const e of events) this.out(`  | ${printable(e.message)}`);
      this.printed += events.length;
      const moved = res.nextForwardToken !== undefined && res.nextForwardToken !== this.token;
      if (res.nextForwardToken) this.token = res.nextForwardToken;
      this.note = undefined;
      return events.length > 0 || moved;
    } catch (err) {
      const e = err as Error;
      // Until the container starts, its stream does not exist: that is no news.
      this.note =
        e.name === 'ResourceNotFoundException'
          ? `the log stream ${group} ${stream} does not exist (the container never started?)`
          : `${group} ${stream}: ${e.name}: ${e.message}`;
      return false;
    }
  }

  /** After the task stopped: reads until the stream has nothing more, then says how it went. */
  async finish(): Promise<void> {
    for (let i = 0; i < DRAIN_CALLS && (await this.poll()); i++);
    if ('missing' in this.where) this.out(`  (no log lines: ${this.where.missing})`);
    else if (this.printed === 0) this.out(`  (no log lines${this.note ? `: ${this.note}` : ''})`);
    else this.out(`  --- ${this.printed} log lines ---`);
  }
}

/**
 * Prints the last lines a stopped task's container wrote. Never fails the run: a task that
 * never started has no stream, and a missing permission is only worth a note.
 */
export async function printLogTail(
  where: LogStream,
  logsFor: LogsClientFactory,
  out: Output,
  lines = TAIL_LINES,
): Promise<void> {
  if ('missing' in where) {
    out(`    (no log tail: ${where.missing})`);
    return;
  }
  try {
    const res = await logsFor(where.region).send(
      new GetLogEventsCommand({
        logGroupName: where.group,
        logStreamName: where.stream,
        limit: lines,
        startFromHead: false,
      }),
    );
    const events = res.events ?? [];
    out(`    --- last ${events.length} log lines of ${where.group} ${where.stream} ---`);
    for (const e of events) out(`    | ${printable(e.message)}`);
  } catch (err) {
    const e = err as Error;
    out(`    (no log tail from ${where.group} ${where.stream}: ${e.name}: ${e.message})`);
  }
}
