import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { Deadline, ExitCode, shortTaskDefinition, ToolError } from './common';
import { DEFAULT_POLL_MS, EcsDeps } from './deploy';
import { describeService } from './rollout';
import { placementOf, runTaskToCompletion } from './run-task';
import { pickContainer } from './task-definition';

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
 * Runs the password rotation as a standalone task: the service's task definition (so the
 * image, roles, secrets and database settings the service has), the service's network
 * placement, and the rotation CLI as the command. Resolves when it exited 0.
 */
export async function triggerRotation(opts: TriggerOptions, deps: EcsDeps): Promise<void> {
  const { ecs, out } = deps;
  const deadline = new Deadline(deps.waiter, opts.timeoutSeconds * 1000);
  const svc = await describeService(ecs, opts.cluster, opts.service);
  const ref = opts.taskDefinition ?? svc.taskDefinition;
  if (!ref) throw new ToolError(ExitCode.USAGE, `service "${opts.service}" has no task definition`);
  const { taskDefinition: td } = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: ref }),
  );
  if (!td?.taskDefinitionArn) throw new ToolError(ExitCode.USAGE, `cannot read ${ref}`);
  const container = pickContainer(td, opts.container).name!;
  if (td.taskDefinitionArn !== svc.taskDefinition) {
    out(
      `note: running ${shortTaskDefinition(td.taskDefinitionArn)}; ` +
        `the service runs ${shortTaskDefinition(svc.taskDefinition)}`,
    );
  }
  out(
    `rotating the password of ${opts.email} with ${shortTaskDefinition(td.taskDefinitionArn)} ` +
      `(container "${container}")`,
  );
  try {
    await runTaskToCompletion(
      {
        purpose: 'password rotation',
        cluster: opts.cluster,
        taskDefinition: td,
        container,
        command: rotationCommand(opts),
        placement: placementOf(svc),
        startedBy: 'portal-api-rotate-password',
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
