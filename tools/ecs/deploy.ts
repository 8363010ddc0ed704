import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  Service,
  TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { Deadline, ExitCode, Output, shortTaskDefinition, ToolError, Waiter } from './common';
import { LogsClientFactory } from './logs';
import { deploymentFor, describeService, waitForRollout } from './rollout';
import { Placement, placementOf, runTaskToCompletion } from './run-task';
import { diffTaskDefinitions, pickContainer, registerInputOf, withImage } from './task-definition';

/** What the one-off migration task runs instead of the image's CMD (see docker/Dockerfile). */
export const MIGRATION_COMMAND = ['node', 'dist/src/database/migrate.js'];
export const DEFAULT_POLL_MS = 6_000;

export interface DeployOptions {
  cluster: string;
  service: string;
  image: string;
  container?: string;
  timeoutSeconds: number;
  dryRun: boolean;
}

export interface EcsDeps {
  ecs: ECSClient;
  logsFor: LogsClientFactory;
  out: Output;
  waiter: Waiter;
  pollMs?: number;
}

export interface DeployResult {
  /** The registered revision; undefined on a dry run. */
  taskDefinitionArn?: string;
}

/**
 * Registers the service's task definition again with the new image, runs the migrations as a
 * one-off task from it, then points the service at it and waits for that deployment to
 * complete. Every wait shares one deadline (--timeout). Throws ToolError with the exit code.
 */
export async function deploy(opts: DeployOptions, deps: EcsDeps): Promise<DeployResult> {
  const { ecs, out } = deps;
  const pollMs = deps.pollMs ?? DEFAULT_POLL_MS;
  const deadline = new Deadline(deps.waiter, opts.timeoutSeconds * 1000);

  const svc = await describeService(ecs, opts.cluster, opts.service);
  const controller = svc.deploymentController?.type ?? 'ECS';
  if (controller !== 'ECS') {
    throw new ToolError(
      ExitCode.USAGE,
      `service "${opts.service}" uses the ${controller} deployment controller; ` +
        'this tool does rolling (ECS) deployments only',
    );
  }
  if (!svc.taskDefinition) {
    throw new ToolError(ExitCode.USAGE, `service "${opts.service}" has no task definition`);
  }
  const current = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: svc.taskDefinition, include: ['TAGS'] }),
  );
  const td = current.taskDefinition;
  if (!td) throw new ToolError(ExitCode.USAGE, `cannot read ${svc.taskDefinition}`);
  const container = pickContainer(td, opts.container).name!;
  const tags = current.tags ?? [];
  const input = withImage(td, container, opts.image, tags);
  const placement = placementOf(svc);

  printPlan(opts, svc, td, container, placement, out);
  const diff = diffTaskDefinitions(registerInputOf(td, tags), input);
  out('task definition changes:');
  if (diff.length === 0) out(`  (none: container "${container}" already runs ${opts.image})`);
  for (const line of diff) out(`  ${line}`);

  if (opts.dryRun) {
    out('dry run: nothing was changed');
    return {};
  }

  const inProgress = (svc.deployments ?? []).filter((d) => d.rolloutState === 'IN_PROGRESS');
  if (inProgress.length > 0) {
    out(`note: the service already has a deployment in progress (${inProgress[0].id})`);
  }

  const registered = await ecs.send(new RegisterTaskDefinitionCommand(input));
  const newTd = registered.taskDefinition;
  if (!newTd?.taskDefinitionArn) {
    throw new ToolError(ExitCode.UNEXPECTED, 'RegisterTaskDefinition returned no task definition');
  }
  const newArn = newTd.taskDefinitionArn;
  out(`1. registered ${shortTaskDefinition(newArn)}`);

  out('2. running the migrations');
  try {
    await runTaskToCompletion(
      {
        purpose: 'migration',
        cluster: opts.cluster,
        taskDefinition: newTd,
        container,
        command: MIGRATION_COMMAND,
        placement,
        startedBy: 'portal-api-deploy',
      },
      { ecs, logsFor: deps.logsFor, out, pollMs },
      deadline,
    );
  } catch (err) {
    if (err instanceof ToolError && err.exitCode === ExitCode.TASK_FAILED) {
      throw new ToolError(
        ExitCode.TASK_FAILED,
        `migration failed: ${err.message}. The service was not changed: it still runs ` +
          shortTaskDefinition(svc.taskDefinition),
      );
    }
    throw err;
  }

  out(`3. updating the service to ${shortTaskDefinition(newArn)}`);
  const updated = await ecs.send(
    new UpdateServiceCommand({
      cluster: opts.cluster,
      service: opts.service,
      taskDefinition: newArn,
    }),
  );
  await waitForRollout(
    ecs,
    {
      cluster: opts.cluster,
      service: opts.service,
      deploymentId: deploymentFor(updated.service, newArn),
      taskDefinitionArn: newArn,
      previousTaskDefinitionArn: svc.taskDefinition,
      previousPrimaryId: svc.deployments?.find((d) => d.status === 'PRIMARY')?.id,
      knownEventIds: (svc.events ?? []).map((e) => e.id!).filter(Boolean),
    },
    out,
    pollMs,
    deadline,
  );
  out(`deployed: service "${opts.service}" runs ${shortTaskDefinition(newArn)}`);
  return { taskDefinitionArn: newArn };
}

export function describePlacement(p: Placement): string {
  const parts: string[] = [];
  if (p.capacityProviderStrategy?.length) {
    parts.push(
      'capacity providers ' +
        p.capacityProviderStrategy
          .map((c) => `${c.capacityProvider}(weight ${c.weight ?? 0}, base ${c.base ?? 0})`)
          .join(', '),
    );
  } else {
    parts.push(`launch type ${p.launchType ?? '(cluster default)'}`);
  }
  if (p.platformVersion) parts.push(`platform ${p.platformVersion}`);
  const vpc = p.networkConfiguration?.awsvpcConfiguration;
  if (vpc) {
    parts.push(
      `subnets ${(vpc.subnets ?? []).join(',')}`,
      `security groups ${(vpc.securityGroups ?? []).join(',') || '(default)'}`,
      `public IP ${vpc.assignPublicIp ?? 'DISABLED'}`,
    );
  }
  return parts.join('; ');
}

function printPlan(
  opts: DeployOptions,
  svc: Service,
  td: TaskDefinition,
  container: string,
  placement: Placement,
  out: Output,
): void {
  const breaker = svc.deploymentConfiguration?.deploymentCircuitBreaker;
  out(
    `plan for service "${opts.service}" in cluster "${opts.cluster}"` +
      (opts.dryRun ? ' (dry run: nothing will be changed)' : ''),
  );
  out(
    `  now:         ${shortTaskDefinition(svc.taskDefinition)} ` +
      `(desired ${svc.desiredCount ?? 0}, running ${svc.runningCount ?? 0})`,
  );
  out(`  1. register  ${td.family}:<next revision>, container "${container}" image ${opts.image}`);
  out(`  2. migrate   a one-off task from it: ${MIGRATION_COMMAND.join(' ')}`);
  out(`               ${describePlacement(placement)}`);
  out('  3. update    the service to it, and wait until its deployment is COMPLETED');
  out(
    `               circuit breaker ${breaker?.enable ? 'on' : 'OFF'}, ` +
      `rollback ${breaker?.rollback ? 'on' : 'OFF'}`,
  );
  out(`  all waits together: at most ${opts.timeoutSeconds} s`);
  if (!breaker?.enable) {
    out(
      'warning: the deployment circuit breaker is off: a failing deployment is not stopped by ' +
        'ECS and ends here in a time-out',
    );
  }
}
