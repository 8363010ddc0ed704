import {
  CapacityProviderStrategyItem,
  DescribeTasksCommand,
  ECSClient,
  KeyValuePair,
  LaunchType,
  NetworkConfiguration,
  RunTaskCommand,
  Service,
  StopTaskCommand,
  Task,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { randomUUID } from 'node:crypto';
import {
  abortedBy,
  arnId,
  Deadline,
  ExitCode,
  interruptedCode,
  Output,
  seconds,
  StopSignal,
  ToolError,
} from './common';
import { LogFollower, LogsClientFactory, logStreamOf } from './logs';
import { withRetries } from './retry';

/** How a one-off task is placed: the service's network, so it reaches what the service reaches. */
export interface Placement {
  launchType?: LaunchType;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  platformVersion?: string;
  networkConfiguration?: NetworkConfiguration;
}

const FARGATE_PROVIDERS = new Set(['FARGATE', 'FARGATE_SPOT']);

/**
 * The service's network configuration and platform version, on on-demand capacity: a migration
 * or a rotation must not be interrupted by a Spot reclaim. A service on FARGATE / FARGATE_SPOT
 * capacity providers gives launch type FARGATE; a strategy with other providers (EC2 capacity)
 * is kept without FARGATE_SPOT. `strategy` (--capacity-provider-strategy) overrides all that.
 */
export function placementOf(
  service: Service,
  strategy?: CapacityProviderStrategyItem[],
): Placement {
  const placement: Placement = { networkConfiguration: service.networkConfiguration };
  // RunTask takes a launch type or a capacity provider strategy, never both.
  const serviceStrategy = service.capacityProviderStrategy ?? [];
  if (strategy && strategy.length > 0) {
    placement.capacityProviderStrategy = strategy;
  } else if (serviceStrategy.length > 0) {
    if (serviceStrategy.every((c) => FARGATE_PROVIDERS.has(c.capacityProvider ?? ''))) {
      placement.launchType = 'FARGATE';
    } else {
      placement.capacityProviderStrategy = serviceStrategy.filter(
        (c) => c.capacityProvider !== 'FARGATE_SPOT',
      );
    }
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
  /** Run as this IAM role instead of the task definition's (--task-role-arn). */
  taskRoleArn?: string;
  /** How long the task may take to reach RUNNING; then it is stopped (--start-timeout). */
  startTimeoutMs: number;
  /** Called with the task's ARN as soon as RunTask answered. */
  onStarted?: (taskArn: string) => void;
  /** Called when the tool itself stopped the task (start timeout, deadline, signal). */
  onStopped?: () => void;
}

export interface RunDeps {
  ecs: ECSClient;
  logsFor: LogsClientFactory;
  out: Output;
  /** How often DescribeTasks is called. */
  pollMs: number;
}

/**
 * Runs the task, prints its log lines while it runs, waits (bounded by the deadline) for it to
 * stop and checks the container's exit code. Resolves with the task ARN when the container
 * exited 0; throws ToolError TASK_FAILED, TIMED_OUT or INTERRUPTED_* otherwise. A task that has
 * not reached RUNNING by the start timeout or the deadline is stopped, so it cannot start later
 * with nobody watching; so is any task when the run is interrupted (deadline.signal).
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
        ...(task.taskRoleArn ? { taskRoleArn: task.taskRoleArn } : {}),
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
  task.onStarted?.(taskArn);
  out(`${task.purpose} task ${arnId(taskArn)} started`);

  const logs = new LogFollower(
    logStreamOf(task.taskDefinition, task.container, taskArn),
    deps.logsFor,
    out,
  );
  let stopped: Task;
  try {
    stopped = await waitUntilStopped(task, taskArn, deps, deadline, logs);
  } finally {
    // Stopped, stopped by us, or still running at the deadline: what it wrote explains it.
    await logs.finish();
  }
  checkExit(task, stopped);
  out(`${task.purpose} task ${arnId(taskArn)} exited with code 0`);
  return taskArn;
}

async function stopTask(
  task: OneOffTask,
  taskArn: string,
  reason: string,
  deps: RunDeps,
): Promise<string> {
  const id = arnId(taskArn);
  try {
    await deps.ecs.send(new StopTaskCommand({ cluster: task.cluster, task: taskArn, reason }));
    task.onStopped?.();
    deps.out(`  stopped the ${task.purpose} task ${id}`);
    return 'it was stopped';
  } catch (err) {
    const e = err as Error;
    deps.out(`  could not stop the ${task.purpose} task ${id}: ${e.name}: ${e.message}`);
    return `stopping it failed (${e.name}): aws ecs stop-task --cluster ${task.cluster} --task ${id}`;
  }
}

async function waitUntilStopped(
  task: OneOffTask,
  taskArn: string,
  deps: RunDeps,
  deadline: Deadline,
  logs: LogFollower,
): Promise<Task> {
  const id = arnId(taskArn);
  const startBy = deadline.now() + task.startTimeoutMs;
  let lastStatus: string | undefined;
  let reachedRunning = false;
  const interrupt = async (by: StopSignal): Promise<never> => {
    const how = await stopTask(task, taskArn, `portal-api tool interrupted (${by})`, deps);
    throw new ToolError(
      interruptedCode(by),
      `interrupted by ${by} while the ${task.purpose} task ${id} was ${lastStatus ?? 'starting'}: ${how}`,
    );
  };
  for (;;) {
    const interrupted = abortedBy(deadline.signal);
    if (interrupted) await interrupt(interrupted);
    let res;
    try {
      res = await withRetries(
        () => deps.ecs.send(new DescribeTasksCommand({ cluster: task.cluster, tasks: [taskArn] })),
        { deadline, out: deps.out, what: 'DescribeTasks', delayMs: deps.pollMs },
      );
    } catch (err) {
      const by = abortedBy(deadline.signal);
      if (by) await interrupt(by);
      throw err;
    }
    // Right after RunTask the task may not be visible yet (MISSING): poll on.
    const current = res.tasks?.find((t) => t.taskArn === taskArn);
    if (current?.lastStatus && current.lastStatus !== lastStatus) {
      lastStatus = current.lastStatus;
      deps.out(`  ${task.purpose} task ${id}: ${lastStatus}`);
    }
    if (current?.startedAt || current?.lastStatus === 'RUNNING') reachedRunning = true;
    if (reachedRunning) await logs.poll();
    if (current?.lastStatus === 'STOPPED') return current;

    if (!reachedRunning && deadline.now() >= startBy) {
      const how = await stopTask(
        task,
        taskArn,
        `portal-api: not RUNNING within ${seconds(task.startTimeoutMs)} s`,
        deps,
      );
      throw new ToolError(
        ExitCode.TASK_FAILED,
        `the ${task.purpose} task ${id} did not start within ${seconds(task.startTimeoutMs)} s ` +
          `(last status ${lastStatus ?? 'unknown'}): ${how}`,
      );
    }
    if (deadline.expired()) {
      const how = reachedRunning
        ? `it was left running: aws ecs stop-task --cluster ${task.cluster} --task ${id}`
        : await stopTask(task, taskArn, 'portal-api: not RUNNING by the deadline', deps);
      throw new ToolError(
        ExitCode.TIMED_OUT,
        `the ${task.purpose} task ${id} did not stop within ${seconds(deadline.totalMs)} s ` +
          `(last status ${lastStatus ?? 'unknown'}); ${how}`,
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
