import {
  Deployment,
  DescribeServicesCommand,
  ECSClient,
  Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  abortedBy,
  Deadline,
  ExitCode,
  interruptedCode,
  Output,
  seconds,
  shortTaskDefinition,
  ToolError,
} from './common';
import { withRetries } from './retry';
import { stoppedTaskArns } from './stopped-tasks';

export interface Rollout {
  cluster: string;
  service: string;
  /**
   * The deployment UpdateService started (from its answer), when ECS named it; the wait fills
   * it in when it learns it later.
   */
  deploymentId?: string;
  taskDefinitionArn: string;
  previousTaskDefinitionArn?: string;
  /** The PRIMARY deployment before the update. */
  previousPrimaryId?: string;
  /** Service events already seen before the update (not printed again). */
  knownEventIds?: string[];
  /** --max-failed-tasks: after this many stopped tasks of the deployment, put the previous revision back. */
  maxFailedTasks?: number;
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

/**
 * A deployment that is still rolling out: IN_PROGRESS, or, for services that report no
 * rolloutState, a primary with older deployments still draining. A FAILED deployment is not:
 * ECS launches nothing more for it, and a new deploy is how it gets fixed.
 */
export function deploymentInProgress(service: Service): Deployment | undefined {
  const deployments = service.deployments ?? [];
  const rolling = deployments.find((d) => d.rolloutState === 'IN_PROGRESS');
  if (rolling) return rolling;
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (primary && primary.rolloutState === undefined && deployments.length > 1) return primary;
  return undefined;
}

function progress(d: Deployment): string {
  return (
    `${d.rolloutState ?? d.status}: running ${d.runningCount ?? 0}/${d.desiredCount ?? 0}, ` +
    `pending ${d.pendingCount ?? 0}, failed ${d.failedTasks ?? 0}`
  );
}

/**
 * Waits (bounded by the deadline) until the service's own deployment is COMPLETED and the
 * service runs the new revision. Throws ROLLED_BACK when the previous revision is back (the
 * circuit breaker, or --max-failed-tasks), DEPLOY_FAILED when the deployment failed without a
 * rollback or another one replaced it, TIMED_OUT when the deadline passes first, and
 * INTERRUPTED_* when the run is interrupted (the deployment goes on in ECS).
 *
 * Right after UpdateService, DescribeServices may still show the service as before (eventual
 * consistency): the old primary is taken for a stale view only until our deployment has been
 * seen once. After that, the old deployment primary again (ECS reuses its id for a rollback:
 * it goes from COMPLETED back to IN_PROGRESS) or ours gone with the old revision primary is a
 * rollback.
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
  let seenOurs = false;
  const newTd = rollout.taskDefinitionArn;
  const previousTd = rollout.previousTaskDefinitionArn;
  for (;;) {
    const by = abortedBy(deadline.signal);
    if (by) {
      throw new ToolError(
        interruptedCode(by),
        `interrupted by ${by} while waiting for deployment ${rollout.deploymentId ?? '(unknown)'}: ` +
          'ECS goes on with it',
      );
    }
    const svc = await withRetries(() => describeService(ecs, rollout.cluster, rollout.service), {
      deadline,
      out,
      what: 'DescribeServices',
      delayMs: pollMs,
    }).catch((e: unknown) => {
      throw e instanceof ToolError && e.exitCode === ExitCode.USAGE
        ? new ToolError(ExitCode.DEPLOY_FAILED, `the service went away: ${e.message}`)
        : e;
    });

    const events = (svc.events ?? []).filter((e) => e.id && !seenEvents.has(e.id)).reverse(); // ECS lists the newest first
    for (const e of events) {
      seenEvents.add(e.id!);
      out(`  event: ${e.message}`);
    }

    const deployments = svc.deployments ?? [];
    rollout.deploymentId ??= deploymentFor(svc, newTd);
    const ours = deployments.find((d) => d.id === rollout.deploymentId);
    const primary = deployments.find((d) => d.status === 'PRIMARY');
    if (ours) seenOurs = true;

    if (ours) {
      const p = progress(ours);
      if (p !== lastProgress) out(`  deployment ${ours.id}: ${p}`);
      lastProgress = p;
    }

    const reason = ours?.rolloutStateReason ? `: ${ours.rolloutStateReason}` : '';
    const rolledBack = (to: string | undefined) =>
      new ToolError(
        ExitCode.ROLLED_BACK,
        `the deployment failed and the circuit breaker rolled the service back to ` +
          `${shortTaskDefinition(to)}${reason}`,
      );
    const replaced = (by: string | undefined) =>
      new ToolError(
        ExitCode.DEPLOY_FAILED,
        `another deployment (${shortTaskDefinition(by)}) replaced this one${reason}`,
      );
    const breakerRollsBack = svc.deploymentConfiguration?.deploymentCircuitBreaker?.rollback;

    if (primary && primary.id !== ours?.id) {
      const isOldPrimary = primary.id === rollout.previousPrimaryId;
      if (!seenOurs) {
        // Not caught up yet while the old primary shows; anything else is news.
        if (!isOldPrimary && primary.taskDefinition !== newTd) {
          throw primary.taskDefinition === previousTd
            ? rolledBack(primary.taskDefinition)
            : replaced(primary.taskDefinition);
        }
      } else if (
        isOldPrimary ||
        primary.taskDefinition === previousTd ||
        (breakerRollsBack && ours?.rolloutState === 'FAILED')
      ) {
        throw rolledBack(primary.taskDefinition);
      } else {
        throw replaced(primary.taskDefinition);
      }
    }
    if (seenOurs && !ours && !primary) {
      throw new ToolError(ExitCode.DEPLOY_FAILED, 'the deployment is gone and nothing replaced it');
    }
    if (ours?.rolloutState === 'FAILED' && !breakerRollsBack) {
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

    if (ours?.id && rollout.maxFailedTasks) {
      await failFast(ecs, rollout, ours.id, out, pollMs, deadline);
    }

    if (deadline.expired()) {
      throw new ToolError(
        ExitCode.TIMED_OUT,
        `the deployment did not complete within ${seconds(deadline.totalMs)} s ` +
          `(${ours ? progress(ours) : 'deployment not seen'}); ECS goes on with it`,
      );
    }
    await deadline.sleep(pollMs);
  }
}

/** --max-failed-tasks: puts the previous revision back once enough new tasks have stopped. */
async function failFast(
  ecs: ECSClient,
  rollout: Rollout,
  deploymentId: string,
  out: Output,
  pollMs: number,
  deadline: Deadline,
): Promise<void> {
  const max = rollout.maxFailedTasks!;
  const stopped = (
    await withRetries(() => stoppedTaskArns(ecs, rollout.cluster, deploymentId), {
      deadline,
      out,
      what: 'ListTasks',
      delayMs: pollMs,
    })
  ).length;
  if (stopped < max) return;
  const previous = rollout.previousTaskDefinitionArn;
  if (!previous) {
    throw new ToolError(
      ExitCode.DEPLOY_FAILED,
      `${stopped} task(s) of deployment ${deploymentId} stopped (--max-failed-tasks ${max}) ` +
        'and there is no previous revision to put back',
    );
  }
  out(
    `fail fast: ${stopped} task(s) of deployment ${deploymentId} stopped ` +
      `(--max-failed-tasks ${max}): putting ${shortTaskDefinition(previous)} back`,
  );
  const back = await ecs.send(
    new UpdateServiceCommand({
      cluster: rollout.cluster,
      service: rollout.service,
      taskDefinition: previous,
    }),
  );
  const backId = deploymentFor(back.service, previous);
  throw new ToolError(
    ExitCode.ROLLED_BACK,
    `${stopped} task(s) of the new deployment stopped (--max-failed-tasks ${max}): the service ` +
      `was put back on ${shortTaskDefinition(previous)}` +
      (backId ? ` (deployment ${backId}, which ECS carries on with)` : ''),
  );
}
