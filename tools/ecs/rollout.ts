import { Deployment, DescribeServicesCommand, ECSClient, Service } from '@aws-sdk/client-ecs';
import { Deadline, ExitCode, Output, shortTaskDefinition, ToolError } from './common';

export interface Rollout {
  cluster: string;
  service: string;
  /** The deployment UpdateService started (from its answer), when ECS named it. */
  deploymentId?: string;
  taskDefinitionArn: string;
  previousTaskDefinitionArn?: string;
  /** The PRIMARY deployment before the update: while it is still primary, ECS has not caught up. */
  previousPrimaryId?: string;
  /** Service events already seen before the update (not printed again). */
  knownEventIds?: string[];
}

export async function describeService(
  ecs: ECSClient,
  cluster: string,
  service: string,
): Promise<Service> {
  const res = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const found = res.services?.find((s) => s.status !== 'INACTIVE');
  if (!found) {
    const reason = res.failures?.map((f) => f.reason).join(', ') || 'INACTIVE';
    throw new ToolError(
      ExitCode.USAGE,
      `no active service "${service}" in cluster "${cluster}" (${reason})`,
    );
  }
  return found;
}

/** The deployment UpdateService started: PRIMARY, on the new task definition. */
export function deploymentFor(service: Service | undefined, taskDefinitionArn: string) {
  return service?.deployments?.find(
    (d) => d.status === 'PRIMARY' && d.taskDefinition === taskDefinitionArn,
  )?.id;
}

function progress(d: Deployment): string {
  return (
    `${d.rolloutState ?? d.status}: running ${d.runningCount ?? 0}/${d.desiredCount ?? 0}, ` +
    `pending ${d.pendingCount ?? 0}, failed ${d.failedTasks ?? 0}`
  );
}

/**
 * Waits (bounded by the deadline) until the service's own deployment is COMPLETED and the
 * service runs the new revision. Throws ROLLED_BACK when the circuit breaker put the previous
 * revision back, DEPLOY_FAILED when the deployment failed or another one replaced it, and
 * TIMED_OUT when the deadline passes first.
 */
export async function waitForRollout(
  ecs: ECSClient,
  rollout: Rollout,
  out: Output,
  pollMs: number,
  deadline: Deadline,
): Promise<void> {
  const seenEvents = new Set<string>(rollout.knownEventIds ?? []);
  let lastProgress = '';
  let deploymentId = rollout.deploymentId;
  const newTd = rollout.taskDefinitionArn;
  for (;;) {
    const svc = await describeService(ecs, rollout.cluster, rollout.service).catch((e) => {
      throw e instanceof ToolError
        ? new ToolError(ExitCode.DEPLOY_FAILED, `the service went away: ${e.message}`)
        : e;
    });

    const events = (svc.events ?? []).filter((e) => e.id && !seenEvents.has(e.id)).reverse(); // ECS lists the newest first
    for (const e of events) {
      seenEvents.add(e.id!);
      out(`  event: ${e.message}`);
    }

    const deployments = svc.deployments ?? [];
    deploymentId ??= deploymentFor(svc, newTd);
    const ours = deployments.find((d) => d.id === deploymentId);
    const primary = deployments.find((d) => d.status === 'PRIMARY');

    if (ours) {
      const p = progress(ours);
      if (p !== lastProgress) out(`  deployment ${ours.id}: ${p}`);
      lastProgress = p;
    }

    // Right after UpdateService, DescribeServices may still show the old primary (eventual
    // consistency): that is no rollback, only a view that has not caught up yet.
    const stale = primary !== undefined && primary.id === rollout.previousPrimaryId;
    if (primary && primary.taskDefinition !== newTd && !stale) {
      const reason = ours?.rolloutStateReason ? `: ${ours.rolloutStateReason}` : '';
      const rollback = svc.deploymentConfiguration?.deploymentCircuitBreaker?.rollback === true;
      if (
        primary.taskDefinition === rollout.previousTaskDefinitionArn ||
        (rollback && ours?.rolloutState === 'FAILED')
      ) {
        throw new ToolError(
          ExitCode.ROLLED_BACK,
          `the deployment failed and the circuit breaker rolled the service back to ` +
            `${shortTaskDefinition(primary.taskDefinition)}${reason}`,
        );
      }
      throw new ToolError(
        ExitCode.DEPLOY_FAILED,
        `another deployment (${shortTaskDefinition(primary.taskDefinition)}) replaced this one${reason}`,
      );
    }
    if (ours?.rolloutState === 'FAILED') {
      throw new ToolError(
        ExitCode.DEPLOY_FAILED,
        `the deployment failed: ${ours.rolloutStateReason ?? 'no reason given'} ` +
          `(the circuit breaker is not set to roll back: the service keeps the failed revision)`,
      );
    }
    if (ours && primary?.id === ours.id && svc.taskDefinition === newTd) {
      const running = (ours.runningCount ?? 0) >= (ours.desiredCount ?? 0);
      if (ours.rolloutState === 'COMPLETED' && running) return;
      // Services that report no rolloutState: stable once the old deployments are gone.
      if (
        ours.rolloutState === undefined &&
        deployments.length === 1 &&
        running &&
        (ours.pendingCount ?? 0) === 0
      ) {
        return;
      }
    }

    if (deadline.expired()) {
      throw new ToolError(
        ExitCode.TIMED_OUT,
        `the deployment did not complete within ${Math.round(deadline.totalMs / 1000)} s ` +
          `(${ours ? progress(ours) : 'deployment not seen'}); ECS goes on with it`,
      );
    }
    await deadline.sleep(pollMs);
  }
}
