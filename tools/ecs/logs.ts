import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { arnId, Output } from './common';

export type LogsClientFactory = (region: string | undefined) => CloudWatchLogsClient;

export const TAIL_LINES = 50;

/** Where the awslogs driver writes a task's container: group, region and stream. */
export function logStreamOf(
  td: TaskDefinition,
  containerName: string,
  taskArn: string,
): { group: string; region?: string; stream: string } | { missing: string } {
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

/**
 * Prints the last lines the task's container wrote to CloudWatch Logs. Never fails the run: a
 * task that never started has no stream, and a missing permission is only worth a note.
 */
export async function printLogTail(
  td: TaskDefinition,
  containerName: string,
  taskArn: string,
  logsFor: LogsClientFactory,
  out: Output,
): Promise<void> {
  const where = logStreamOf(td, containerName, taskArn);
  if ('missing' in where) {
    out(`  (no log tail: ${where.missing})`);
    return;
  }
  try {
    const res = await logsFor(where.region).send(
      new GetLogEventsCommand({
        logGroupName: where.group,
        logStreamName: where.stream,
        limit: TAIL_LINES,
        startFromHead: false,
      }),
    );
    const events = res.events ?? [];
    out(`  --- last ${events.length} log lines of ${where.group} ${where.stream} ---`);
    for (const e of events) out(`  | ${(e.message ?? '').replace(/\s+$/, '')}`);
    out('  ---');
  } catch (err) {
    const e = err as Error;
    out(`  (no log tail from ${where.group} ${where.stream}: ${e.name}: ${e.message})`);
  }
}
