import {
  CapacityProviderStrategyItem,
  DeregisterTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  Service,
  TagResourceCommand,
  TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  Deadline,
  ExitCode,
  Output,
  shortTaskDefinition,
  throwIfInterrupted,
  ToolError,
  Waiter,
} from './common';
import { Git, localGit } from './git';
import { LogsClientFactory } from './logs';
import { DeployProgress } from './report';
import { deploymentFor, deploymentInProgress, describeService, waitForRollout } from './rollout';
import { Placement, placementOf, runTaskToCompletion } from './run-task';
import { smokeCheck } from './smoke';
import { explainStoppedTasks } from './stopped-tasks';
import {
  DescribedTaskDefinition,
  describeTaskDefinition,
  diffTaskDefinitions,
  MANAGED_BY_CDK,
  MANAGED_BY_DEPLOY_TOOL,
  pickContainer,
  registerInputOf,
  TAG_GIT_SHA,
  TAG_MANAGED_BY,
  TAG_STATUS,
  tagValue,
  withImage,
} from './task-definition';

/** What the one-off migration task runs instead of the image's CMD (see docker/Dockerfile). */
export const MIGRATION_COMMAND = ['node', 'dist/src/database/migrate.js'];
export const DEFAULT_POLL_MS = 6_000;
export const DEFAULT_START_TIMEOUT_SECONDS = 300;
export const DEFAULT_SMOKE_TIMEOUT_SECONDS = 120;

export interface DeployOptions {
  cluster: string;
  service: string;
  image: string;
  container?: string;
  timeoutSeconds: number;
  dryRun: boolean;
  /** The commit the image was built from (full SHA): stamped on the revision, checked for order. */
  gitSha?: string;
  /** Deploy even when gitSha is not a descendant of the running commit. */
  allowOlder?: boolean;
  /** Deploy even while another deployment of the service is in progress. */
  force?: boolean;
  /** Which revision to copy when the family's latest is not the service's (drift). */
  from?: 'latest' | 'service';
  /** The IAM role the migration task runs as (a migrator role with DDL rights). */
  taskRoleArn?: string;
  /** DATABASE_SECRET_ID for the migration task only: the migrator database user's secret. */
  migrationSecretId?: string;
  /** Where the migration task runs; default on-demand FARGATE (see placementOf). */
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  /** How long the migration task may take to reach RUNNING. */
  startTimeoutSeconds?: number;
  /** Put the previous revision back after this many stopped tasks of the new deployment. */
  maxFailedTasks?: number;
  /** After the deployment completed, GET <smokeUrl>/ping until 200. */
  smokeUrl?: string;
  smokeTimeoutSeconds?: number;
}

export interface EcsDeps {
  ecs: ECSClient;
  logsFor: LogsClientFactory;
  out: Output;
  waiter: Waiter;
  pollMs?: number;
  /** Aborted (with the signal's name) on SIGINT/SIGTERM: the run stops what it started. */
  signal?: AbortSignal;
  git?: Git;
}

/**
 * Registers the service's task definition again with the new image, runs the migrations as a
 * one-off task from it, then points the service at it and waits for that deployment to
 * complete (and, with a smoke URL, for /ping to answer 200). Every wait shares one deadline
 * (--timeout). Throws ToolError with the exit code; `progress` tells how far it got either way.
 */
export async function deploy(
  opts: DeployOptions,
  deps: EcsDeps,
  progress: DeployProgress = {},
): Promise<DeployProgress> {
  const { ecs, out } = deps;
  const pollMs = deps.pollMs ?? DEFAULT_POLL_MS;
  const deadline = new Deadline(deps.waiter, opts.timeoutSeconds * 1000, deps.signal);

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
  refuseWhileBusy(svc, opts, out, 'the service');

  const running = await describeTaskDefinition(ecs, svc.taskDefinition);
  const source = await pickSource(ecs, running, opts, out);
  await checkOrder(running, opts, deps.git ?? localGit(), out);

  const td = source.taskDefinition;
  const container = pickContainer(td, opts.container).name!;
  const input = withImage(td, container, opts.image, source.tags, opts.gitSha);
  const placement = placementOf(svc, opts.capacityProviderStrategy);

  printPlan(opts, svc, td, container, placement, out);
  const diff = diffTaskDefinitions(
    { ...registerInputOf(running.taskDefinition), tags: running.tags },
    input,
  );
  out(
    `task definition changes (from ${shortTaskDefinition(running.taskDefinition.taskDefinitionArn)}):`,
  );
  if (diff.length === 0) out(`  (none: container "${container}" already runs ${opts.image})`);
  for (const line of diff) out(`  ${line}`);
  for (const field of source.dropped) {
    out(
      `  ! ${field}: dropped (the installed @aws-sdk/client-ecs does not know this field, so ` +
        'the new revision will not have it)',
    );
  }
  if (source.dropped.length > 0) {
    out(
      `warning: ${source.dropped.length} field(s) of ${shortTaskDefinition(td.taskDefinitionArn)} ` +
        'would be lost: update @aws-sdk/client-ecs before deploying, or register the revision by hand',
    );
  }

  if (opts.dryRun) {
    out('dry run: nothing was changed');
    progress.outcome = 'planned';
    return progress;
  }
  throwIfInterrupted(deps.signal, 'nothing was changed');

  const registered = await ecs.send(new RegisterTaskDefinitionCommand(input));
  const newTd = registered.taskDefinition;
  if (!newTd?.taskDefinitionArn) {
    throw new ToolError(ExitCode.UNEXPECTED, 'RegisterTaskDefinition returned no task definition');
  }
  const newArn = newTd.taskDefinitionArn;
  progress.revisionArn = newArn;
  out(
    `1. registered ${shortTaskDefinition(newArn)}` +
      (opts.gitSha ? ` (${TAG_GIT_SHA}=${opts.gitSha})` : ''),
  );

  out('2. running the migrations');
  let stoppedByUs = false;
  try {
    progress.migrationTaskArn = await runTaskToCompletion(
      {
        purpose: 'migration',
        cluster: opts.cluster,
        taskDefinition: newTd,
        container,
        command: MIGRATION_COMMAND,
        environment: opts.migrationSecretId
          ? [{ name: 'DATABASE_SECRET_ID', value: opts.migrationSecretId }]
          : undefined,
        placement,
        startedBy: 'portal-api-deploy',
        taskRoleArn: opts.taskRoleArn,
        startTimeoutMs: (opts.startTimeoutSeconds ?? DEFAULT_START_TIMEOUT_SECONDS) * 1000,
        onStarted: (arn) => {
          progress.migrationTaskArn = arn;
        },
        onStopped: () => {
          stoppedByUs = true;
        },
      },
      { ecs, logsFor: deps.logsFor, out, pollMs },
      deadline,
    );
  } catch (err) {
    // Timed out with the task left running, still migrating: the revision stays.
    const stillRunning =
      !stoppedByUs && err instanceof ToolError && err.exitCode === ExitCode.TIMED_OUT;
    if (stillRunning) throw err;
    // Failed, never started, or stopped by the tool: no family reference may pick it.
    await retireRevision(ecs, newArn, 'failed', out);
    if (!(err instanceof ToolError)) throw err;
    throw new ToolError(
      err.exitCode,
      `migration failed: ${err.message}. The service was not changed: it still runs ` +
        shortTaskDefinition(svc.taskDefinition),
    );
  }

  // The migrations took a while: someone may have started a deployment since.
  const now = await describeService(ecs, opts.cluster, opts.service);
  refuseWhileBusy(now, opts, out, 'while the migrations ran, the service');
  throwIfInterrupted(
    deps.signal,
    `the migrations ran; the service still runs ${shortTaskDefinition(now.taskDefinition)}`,
  );

  out(`3. updating the service to ${shortTaskDefinition(newArn)}`);
  const updated = await ecs.send(
    new UpdateServiceCommand({
      cluster: opts.cluster,
      service: opts.service,
      taskDefinition: newArn,
    }),
  );
  const rollout = {
    cluster: opts.cluster,
    service: opts.service,
    deploymentId: deploymentFor(updated.service, newArn),
    taskDefinitionArn: newArn,
    previousTaskDefinitionArn: now.taskDefinition,
    previousPrimaryId: now.deployments?.find((d) => d.status === 'PRIMARY')?.id,
    knownEventIds: (now.events ?? []).map((e) => e.id!).filter(Boolean),
    maxFailedTasks: opts.maxFailedTasks,
  };
  progress.deploymentId = rollout.deploymentId;
  try {
    await waitForRollout(ecs, rollout, out, pollMs, deadline);
  } catch (err) {
    progress.deploymentId = rollout.deploymentId;
    const failed =
      err instanceof ToolError &&
      (err.exitCode === ExitCode.ROLLED_BACK || err.exitCode === ExitCode.DEPLOY_FAILED);
    if (failed) {
      out(`deployment failed: ${err.message}`);
      if (rollout.deploymentId) {
        await explainStoppedTasks(
          ecs,
          opts.cluster,
          rollout.deploymentId,
          newTd,
          container,
          deps.logsFor,
          out,
        );
      }
      if (err.exitCode === ExitCode.ROLLED_BACK) {
        await retireRevision(ecs, newArn, 'rolled-back', out);
      }
    }
    throw err;
  }
  progress.deploymentId = rollout.deploymentId;
  out(`deployed: service "${opts.service}" runs ${shortTaskDefinition(newArn)}`);

  if (opts.smokeUrl) {
    try {
      await smokeCheck(opts.smokeUrl, deadline, out, {
        intervalMs: Math.min(pollMs, 5_000),
        timeoutMs: (opts.smokeTimeoutSeconds ?? DEFAULT_SMOKE_TIMEOUT_SECONDS) * 1000,
      });
    } catch (err) {
      if (err instanceof ToolError && err.exitCode === ExitCode.DEPLOY_FAILED) {
        progress.outcome = 'smoke-failed';
      }
      throw err;
    }
  }
  progress.outcome = 'deployed';
  return progress;
}

/** Another deployment rolling out: refuse (BUSY) unless --force. */
function refuseWhileBusy(svc: Service, opts: DeployOptions, out: Output, who: string): void {
  const busy = deploymentInProgress(svc);
  if (!busy) return;
  const what =
    `${who} has a deployment in progress: ${busy.id} to ${shortTaskDefinition(busy.taskDefinition)} ` +
    `(${busy.rolloutState ?? busy.status}, running ${busy.runningCount ?? 0}/${busy.desiredCount ?? 0})`;
  if (opts.force) {
    out(`note: ${what}; --force: deploying anyway`);
    return;
  }
  throw new ToolError(ExitCode.BUSY, `${what}. Wait for it to end, or pass --force to replace it`);
}

function registeredBy(tags: DescribedTaskDefinition['tags']): string {
  const managedBy = tagValue(tags, TAG_MANAGED_BY);
  if (managedBy === MANAGED_BY_CDK) return 'the CDK app (tools/infra)';
  if (managedBy === MANAGED_BY_DEPLOY_TOOL) {
    const sha = tagValue(tags, TAG_GIT_SHA);
    return `an earlier deploy${sha ? ` of commit ${sha}` : ''}`;
  }
  return 'something other than this tool (Terraform, the console...)';
}

/**
 * The revision to copy. Normally the service's. When the family's latest revision is another
 * one, registered by infrastructure code (CDK, Terraform) and never deployed, copying either
 * silently loses something: the diff is printed and --from-latest or --from-service decides
 * (DRIFT otherwise). A latest revision an earlier deploy of this tool left behind (it timed
 * out) is no infrastructure change: the service's revision is copied.
 */
async function pickSource(
  ecs: ECSClient,
  running: DescribedTaskDefinition,
  opts: DeployOptions,
  out: Output,
): Promise<DescribedTaskDefinition> {
  const runningTd = running.taskDefinition;
  let latest: DescribedTaskDefinition;
  try {
    latest = await describeTaskDefinition(ecs, runningTd.family!);
  } catch (err) {
    // No ACTIVE revision in the family (the service's own was deregistered): nothing to drift.
    if ((err as Error).name !== 'ClientException') throw err;
    out(`note: the family ${runningTd.family} has no ACTIVE revision: copying the service's`);
    return running;
  }
  const latestArn = latest.taskDefinition.taskDefinitionArn;
  if (latestArn === runningTd.taskDefinitionArn) return running;
  const by = registeredBy(latest.tags);
  if (tagValue(latest.tags, TAG_MANAGED_BY) === MANAGED_BY_DEPLOY_TOOL && opts.from !== 'latest') {
    out(
      `note: the family's latest revision ${shortTaskDefinition(latestArn)} was registered by ${by} ` +
        `and never became the service's; copying the service's ${shortTaskDefinition(runningTd.taskDefinitionArn)}`,
    );
    return running;
  }
  out(
    `the family's latest revision ${shortTaskDefinition(latestArn)} (registered by ${by}) is not ` +
      `the one the service runs (${shortTaskDefinition(runningTd.taskDefinitionArn)}); what it changes:`,
  );
  const diff = diffTaskDefinitions(
    { ...registerInputOf(runningTd), tags: running.tags },
    { ...registerInputOf(latest.taskDefinition), tags: latest.tags },
  );
  for (const line of diff.length ? diff : ['(nothing but the revision)']) out(`  ${line}`);
  if (opts.from === 'latest') {
    out(`--from-latest: copying ${shortTaskDefinition(latestArn)}`);
    return latest;
  }
  if (opts.from === 'service') {
    out(`--from-service: copying ${shortTaskDefinition(runningTd.taskDefinitionArn)}`);
    return running;
  }
  throw new ToolError(
    ExitCode.DRIFT,
    `the family's latest revision ${shortTaskDefinition(latestArn)} differs from the service's ` +
      `${shortTaskDefinition(runningTd.taskDefinitionArn)} (the diff is above): pass --from-latest ` +
      'to deploy on top of it, or --from-service to keep the running one',
  );
}

/**
 * Deploys land in commit order: the commit to deploy must descend from the one the running
 * revision was stamped with, unless --allow-older. Needs the history in the working copy
 * (actions/checkout with fetch-depth: 0).
 */
async function checkOrder(
  running: DescribedTaskDefinition,
  opts: DeployOptions,
  git: Git,
  out: Output,
): Promise<void> {
  const runningSha = tagValue(running.tags, TAG_GIT_SHA);
  const rev = shortTaskDefinition(running.taskDefinition.taskDefinitionArn);
  if (opts.allowOlder) {
    out(`--allow-older: no commit order check (${rev} runs commit ${runningSha ?? 'unknown'})`);
    return;
  }
  if (!runningSha) {
    out(`note: ${rev} carries no ${TAG_GIT_SHA} tag: no commit order check this time`);
    return;
  }
  if (!opts.gitSha) {
    throw new ToolError(
      ExitCode.USAGE,
      `--git-sha is required: the running ${rev} was deployed from commit ${runningSha} and the ` +
        'order of deploys is checked against it (or pass --allow-older)',
    );
  }
  const ancestry = await git.ancestry(runningSha, opts.gitSha);
  if (ancestry === 'ancestor') {
    out(`commit order: ${opts.gitSha} descends from the running ${runningSha}`);
    return;
  }
  if (ancestry === 'not-ancestor') {
    throw new ToolError(
      ExitCode.OUT_OF_ORDER,
      `commit ${opts.gitSha} is not a descendant of the running commit ${runningSha} (${rev}): ` +
        'a newer deploy has landed already. Pass --allow-older to deploy it anyway',
    );
  }
  throw new ToolError(
    ExitCode.USAGE,
    `cannot tell whether ${opts.gitSha} descends from the running commit ${runningSha}: ` +
      `${ancestry.unknown}. The working copy needs the full history (actions/checkout with ` +
      'fetch-depth: 0), or pass --allow-older',
  );
}

/**
 * Marks a revision that must not run (TAG_STATUS) and deregisters it, so a family reference
 * without a revision (a bare-family rotation trigger, the next deploy's drift check) never
 * picks it. Never fails the run: the error being reported matters more.
 */
async function retireRevision(
  ecs: ECSClient,
  arn: string,
  status: 'failed' | 'rolled-back',
  out: Output,
): Promise<void> {
  const rev = shortTaskDefinition(arn);
  try {
    await ecs.send(
      new TagResourceCommand({ resourceArn: arn, tags: [{ key: TAG_STATUS, value: status }] }),
    );
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    out(`marked ${rev} ${TAG_STATUS}=${status} and deregistered it`);
  } catch (err) {
    const e = err as Error;
    out(
      `warning: could not mark and deregister ${rev} (${e.name}: ${e.message}): ` +
        `aws ecs deregister-task-definition --task-definition ${rev}`,
    );
  }
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
  out(
    `  1. register  ${td.family}:<next revision> from ${shortTaskDefinition(td.taskDefinitionArn)}, ` +
      `container "${container}" image ${opts.image}`,
  );
  out(`  2. migrate   a one-off task from it: ${MIGRATION_COMMAND.join(' ')}`);
  out(`               ${describePlacement(placement)}`);
  out(
    `               task role ${opts.taskRoleArn ?? `${td.taskRoleArn ?? '(none)'} (the service's)`}`,
  );
  out('  3. update    the service to it, and wait until its deployment is COMPLETED');
  out(
    `               circuit breaker ${breaker?.enable ? 'on' : 'OFF'}, ` +
      `rollback ${breaker?.rollback ? 'on' : 'OFF'}` +
      (opts.maxFailedTasks ? `; fail fast after ${opts.maxFailedTasks} stopped tasks` : ''),
  );
  if (opts.smokeUrl) out(`  4. smoke     GET ${opts.smokeUrl} /ping until 200`);
  out(`  all waits together: at most ${opts.timeoutSeconds} s`);
  if (!breaker?.enable && !opts.maxFailedTasks) {
    out(
      'warning: the deployment circuit breaker is off: a failing deployment is not stopped by ' +
        'ECS and ends here in a time-out (or set --max-failed-tasks)',
    );
  }
}
