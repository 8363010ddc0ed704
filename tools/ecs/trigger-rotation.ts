import { CapacityProviderStrategyItem } from '@aws-sdk/client-ecs';
import { Deadline, ExitCode, shortTaskDefinition, throwIfInterrupted, ToolError } from './common';
import { DEFAULT_POLL_MS, DEFAULT_START_TIMEOUT_SECONDS, EcsDeps } from './deploy';
import { describeService } from './rollout';
import { placementOf, runTaskToCompletion } from './run-task';
import { describeTaskDefinition, pickContainer, TAG_STATUS, tagValue } from './task-definition';

/** The rotation CLI inside the image (see tools/rotate-password.ts). */
export const ROTATE_PASSWORD_SCRIPT = ['node', 'dist/tools/rotate-password.js'];

export interface TriggerOptions {
  cluster: string;
  service: string;
  email: string;
  role: string;
  disabled: boolean;
  secretId?: string;
  container?: string;
  /** family or family:revision; default: the revision the service runs. */
  taskDefinition?: string;
  /** The rotation's own IAM role (write access to the admin password secret). */
  taskRoleArn?: string;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  startTimeoutSeconds?: number;
  timeoutSeconds: number;
}

export function rotationCommand(opts: TriggerOptions): string[] {
  return [
    ...ROTATE_PASSWORD_SCRIPT,
    '--email',
    opts.email,
    '--role',
    opts.role,
    ...(opts.disabled ? ['--disabled'] : []),
    ...(opts.secretId ? ['--secret-id', opts.secretId] : []),
  ];
}

/**
 * Runs the password rotation as a standalone task: the service's task definition (or its own
 * family, --task-definition), the service's network placement on on-demand capacity, the
 * rotation's own role (--task-role-arn) and the rotation CLI as the command. Resolves when it
 * exited 0. The internet-facing service's role then never needs to write the admin secret.
 */
export async function triggerRotation(opts: TriggerOptions, deps: EcsDeps): Promise<void> {
  const { ecs, out } = deps;
  const deadline = new Deadline(deps.waiter, opts.timeoutSeconds * 1000, deps.signal);
  const svc = await describeService(ecs, opts.cluster, opts.service);
  const ref = opts.taskDefinition ?? svc.taskDefinition;
  if (!ref) throw new ToolError(ExitCode.USAGE, `service "${opts.service}" has no task definition`);
  // A family without a revision resolves to its latest ACTIVE one: the deploy tool deregisters
  // the revisions whose migration failed or which were rolled back, and marks them.
  const { taskDefinition: td, tags } = await describeTaskDefinition(ecs, ref);
  const status = tagValue(tags, TAG_STATUS);
  if (status) {
    throw new ToolError(
      ExitCode.USAGE,
      `${shortTaskDefinition(td.taskDefinitionArn)} is marked ${TAG_STATUS}=${status}: ` +
        'it must not run; pick another revision with --task-definition',
    );
  }
  const container = pickContainer(td, opts.container).name!;
  if (td.taskDefinitionArn !== svc.taskDefinition) {
    out(
      `note: running ${shortTaskDefinition(td.taskDefinitionArn)}; ` +
        `the service runs ${shortTaskDefinition(svc.taskDefinition)}`,
    );
  }
  out(
    `rotating the password of ${opts.email} with ${shortTaskDefinition(td.taskDefinitionArn)} ` +
      `(container "${container}", task role ${opts.taskRoleArn ?? td.taskRoleArn ?? '(none)'})`,
  );
  throwIfInterrupted(deps.signal, 'nothing was started');
  try {
    await runTaskToCompletion(
      {
        purpose: 'password rotation',
        cluster: opts.cluster,
        taskDefinition: td,
        container,
        command: rotationCommand(opts),
        placement: placementOf(svc, opts.capacityProviderStrategy),
        startedBy: 'portal-api-rotate-password',
        taskRoleArn: opts.taskRoleArn,
        startTimeoutMs: (opts.startTimeoutSeconds ?? DEFAULT_START_TIMEOUT_SECONDS) * 1000,
      },
      { ecs, logsFor: deps.logsFor, out, pollMs: deps.pollMs ?? DEFAULT_POLL_MS },
      deadline,
    );
  } catch (err) {
    if (err instanceof ToolError && err.exitCode === ExitCode.TASK_FAILED) {
      throw new ToolError(
        ExitCode.TASK_FAILED,
        `${err.message}. Run it again: an unfinished rotation is finished by the next run`,
      );
    }
    throw err;
  }
}
