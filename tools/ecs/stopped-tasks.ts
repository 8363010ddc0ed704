import {
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  Task,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { arnId, Output, shortTaskDefinition } from './common';
import { LogsClientFactory, logStreamOf, printLogTail } from './logs';

/** Stopped tasks described (DescribeTasks takes up to 100) and log tails printed. */
const DESCRIBED = 100;
const LISTED = 10;
const TAILS = 3;

/**
 * The ARNs of the stopped tasks a service deployment started: ECS starts a deployment's tasks
 * with startedBy = the deployment id, and lists stopped tasks for at least an hour.
 */
export async function stoppedTaskArns(
  ecs: ECSClient,
  cluster: string,
  deploymentId: string,
): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListTasksCommand({
        cluster,
        startedBy: deploymentId,
        desiredStatus: 'STOPPED',
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken && arns.length < DESCRIBED);
  return arns.slice(0, DESCRIBED);
}

function describeStop(t: Task, container: string): string[] {
  const lines = [
    `  stopped task ${arnId(t.taskArn ?? '')} (${shortTaskDefinition(t.taskDefinitionArn)}): ` +
      `${t.stopCode ?? 'no stop code'}: ${t.stoppedReason ?? 'no reason given'}`,
  ];
  for (const c of t.containers ?? []) {
    const code =
      c.exitCode === undefined || c.exitCode === null ? 'no exit code' : `exit code ${c.exitCode}`;
    lines.push(
      `    container ${c.name}${c.name === container ? '' : ' (sidecar)'}: ${code}` +
        (c.reason ? ` (${c.reason})` : ''),
    );
  }
  return lines;
}

/**
 * Says why the new tasks died: each stopped task of the deployment with its stop code, stopped
 * reason and container exit codes, and the log tails of the latest few. Never fails the run.
 */
export async function explainStoppedTasks(
  ecs: ECSClient,
  cluster: string,
  deploymentId: string,
  td: TaskDefinition,
  container: string,
  logsFor: LogsClientFactory,
  out: Output,
): Promise<void> {
  try {
    const arns = await stoppedTaskArns(ecs, cluster, deploymentId);
    if (arns.length === 0) {
      out(`why the new tasks died: deployment ${deploymentId} has no stopped tasks listed`);
      return;
    }
    const res = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }));
    const tasks = [...(res.tasks ?? [])].sort(
      (a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0),
    );
    out(`why the new tasks died: ${tasks.length} stopped task(s) of deployment ${deploymentId}`);
    for (const [i, t] of tasks.slice(0, LISTED).entries()) {
      for (const line of describeStop(t, container)) out(line);
      if (i < TAILS && t.startedAt && t.taskArn) {
        await printLogTail(logStreamOf(td, container, t.taskArn), logsFor, out);
      }
    }
    if (tasks.length > LISTED) out(`  ... and ${tasks.length - LISTED} more`);
  } catch (err) {
    const e = err as Error;
    out(`(could not list the stopped tasks of ${deploymentId}: ${e.name}: ${e.message})`);
  }
}
