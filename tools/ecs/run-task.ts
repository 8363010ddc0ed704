import {
  CapacityProviderStrategyItem,
  DescribeTasksCommand,
  ECSClient,
  KeyValuePair,
  LaunchType,
  NetworkConfiguration,
  RunTaskCommand,
  Service,
  Task,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { randomUUID } from 'node:crypto';
import { arnId, Deadline, ExitCode, Output, ToolError } from './common';
import { LogsClientFactory, printLogTail } from './logs';

/** How a one-off task is placed: copied from the service, so it reaches what the service reaches. */
export interface Placement {
  launchType?: LaunchType;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  platformVersion?: string;
  networkConfiguration?: NetworkConfiguration;
}

export function placementOf(service: Service): Placement {
  const placement: Placement = { networkConfiguration: service.networkConfiguration };
  // RunTask takes a launch type or a capacity provider strategy, never both.
  if (service.capacityProviderStrategy && service.capacityProviderStrategy.length > 0) {
    placement.capacityProviderStrategy = service.capacityProviderStrategy;
  } else if (service.launchType) {
    placement.launchType = service.launchType;
  }
  if (service.platformVersion) placement.platformVersion = service.platformVersion;
  return placement;
}

export interface OneOffTask {
  /** What the task is, for messages: "migration", "password rotation". */
  purpose: string;
  cluster: string;
  taskDefinition: TaskDefinition;
  container: string;
  command: string[];
  environment?: KeyValuePair[];
  placement: Placement;
  startedBy: string;
}

export interface RunDeps {
  ecs: ECSClient;
  logsFor: LogsClientFactory;
  out: Output;
  /** How often DescribeTasks is called. */
  pollMs: number;
}

/**
 * Runs the task, waits (bounded by the deadline) for it to stop, prints its log tail and
 * checks the container's exit code. Resolves with the task ARN when the container exited 0;
 * throws ToolError TASK_FAILED (with the reason) or TIMED_OUT otherwise.
 */
export async function runTaskToCompletion(
  task: OneOffTask,
  deps: RunDeps,
  deadline: Deadline,
): Promise<string> {
  const { ecs, out } = deps;
  const started = await ecs.send(
    new RunTaskCommand({
      cluster: task.cluster,
      taskDefinition: task.taskDefinition.taskDefinitionArn,
      count: 1,
      ...task.placement,
      overrides: {
        containerOverrides: [
          {
            name: task.container,
            command: task.command,
            ...(task.environment?.length ? { environment: task.environment } : {}),
          },
        ],
      },
      startedBy: task.startedBy,
      // An SDK retry of the same call must not start a second task.
      clientToken: randomUUID(),
    }),
  );
  const failures = started.failures ?? [];
  const taskArn = started.tasks?.[0]?.taskArn;
  if (failures.length > 0 || !taskArn) {
    const reasons = failures.map((f) => [f.reason, f.detail].filter(Boolean).join(': '));
    throw new ToolError(
      ExitCode.TASK_FAILED,
      `the ${task.purpose} task could not be started: ${reasons.join('; ') || 'RunTask returned no task'}`,
    );
  }
  out(`${task.purpose} task ${arnId(taskArn)} started`);

  let stopped: Task;
  try {
    stopped = await waitUntilStopped(task, taskArn, deps, deadline);
  } finally {
    // Stopped or still running at the deadline: what it wrote so far explains it.
    await printLogTail(task.taskDefinition, task.container, taskArn, deps.logsFor, out);
  }
  checkExit(task, stopped);
  out(`${task.purpose} task ${arnId(taskArn)} exited with code 0`);
  return taskArn;
}

async function waitUntilStopped(
  task: OneOffTask,
  taskArn: string,
  deps: RunDeps,
  deadline: Deadline,
): Promise<Task> {
  let lastStatus: string | undefined;
  for (;;) {
    const res = await deps.ecs.send(
      new DescribeTasksCommand({ cluster: task.cluster, tasks: [taskArn] }),
    );
    // Right after RunTask the task may not be visible yet (MISSING): poll on.
    const current = res.tasks?.find((t) => t.taskArn === taskArn);
    if (current?.lastStatus && current.lastStatus !== lastStatus) {
      lastStatus = current.lastStatus;
      deps.out(`  ${task.purpose} task ${arnId(taskArn)}: ${lastStatus}`);
    }
    if (current?.lastStatus === 'STOPPED') return current;
    if (deadline.expired()) {
      throw new ToolError(
        ExitCode.TIMED_OUT,
        `the ${task.purpose} task ${arnId(taskArn)} did not stop within ${Math.round(deadline.totalMs / 1000)} s ` +
          `(last status ${lastStatus ?? 'unknown'}); it was left running: ` +
          `aws ecs stop-task --cluster ${task.cluster} --task ${arnId(taskArn)}`,
      );
    }
    await deadline.sleep(deps.pollMs);
  }
}

function checkExit(task: OneOffTask, stopped: Task): void {
  const id = arnId(stopped.taskArn ?? '');
  const container = stopped.containers?.find((c) => c.name === task.container);
  const why = [stopped.stoppedReason, container?.reason].filter(Boolean).join('; ');
  if (stopped.stopCode === 'TaskFailedToStart' || !stopped.startedAt) {
    throw new ToolError(
      ExitCode.TASK_FAILED,
      `the ${task.purpose} task ${id} never started: ${why || stopped.stopCode || 'no reason given'}`,
    );
  }
  if (container?.exitCode === undefined || container.exitCode === null) {
    throw new ToolError(
      ExitCode.TASK_FAILED,
      `the ${task.purpose} task ${id} stopped without an exit code for container "${task.container}"` +
        (why ? `: ${why}` : ''),
    );
  }
  if (container.exitCode !== 0) {
    throw new ToolError(
      ExitCode.TASK_FAILED,
      `the ${task.purpose} task ${id} exited with code ${container.exitCode}` +
        (why ? `: ${why}` : ''),
    );
  }
}
