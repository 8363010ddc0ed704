import { realWaiter } from './ecs/common';
import { awsClients } from './ecs/clients';
import { deploy, DeployOptions } from './ecs/deploy';
import { deployReport, DeployProgress, writeGithubActions } from './ecs/report';
import {
  capacityProviderStrategy,
  optionalString,
  parseOptions,
  positiveInt,
  requireString,
  roleArn,
  runCli,
  UsageError,
} from './lib/cli';
import { abortOnSignals } from './lib/signals';

export const USAGE = `usage: npm run deploy -- --cluster NAME --service NAME --image IMAGE
         [--git-sha SHA] [--allow-older] [--force] [--from-latest | --from-service]
         [--container NAME] [--task-role-arn ARN] [--migration-secret-id ID]
         [--capacity-provider-strategy LIST]
         [--timeout SECONDS] [--start-timeout SECONDS] [--max-failed-tasks N]
         [--smoke-url URL] [--smoke-timeout SECONDS] [--output text|json]
         [--region REGION] [--dry-run]

Registers the service's task definition again with IMAGE, runs the migrations as a one-off
task from it, then updates the service and waits until its deployment is COMPLETED.

  --git-sha          the commit IMAGE was built from (full SHA): stamped on the revision
                     (tag portal-api:git-sha); must descend from the running commit
  --allow-older      deploy even when --git-sha does not descend from the running commit
  --force            deploy even while another deployment is in progress
  --from-latest      when the family's latest revision is not the service's, copy the latest
  --from-service     ... or copy the service's (without either, such a drift is refused)
  --container        the container to deploy to (default: the only one, else "app")
  --task-role-arn    the IAM role the migration task runs as (the migrator role)
  --migration-secret-id
                     DATABASE_SECRET_ID for the migration task only (the migrator database
                     user's secret; the service keeps its own)
  --capacity-provider-strategy
                     where the migration task runs, NAME[:WEIGHT[:BASE]],... (default:
                     on-demand FARGATE, whatever the service uses)
  --timeout          seconds all waits may take together (default 900)
  --start-timeout    seconds the migration task may take to reach RUNNING (default 300)
  --max-failed-tasks put the previous revision back after N stopped tasks of the new
                     deployment, without waiting for the circuit breaker
  --smoke-url        after the deployment completed, GET URL/ping until it answers 200
  --smoke-timeout    seconds the smoke check may take (default 120)
  --output json      print one JSON object (revisionArn, deploymentId, migrationTaskArn,
                     outcome, exitCode, message) on stdout; progress goes to stderr
  --region           AWS region (default: AWS_REGION)
  --dry-run          print the plan and the task definition diff; change nothing

Under GitHub Actions the result also goes to $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY.
exit codes (docs/deploy.md): 0 deployed, 1 AWS or unexpected error, 2 usage, 3 migration
  failed, 4 deploy failed (or smoke check), 5 rolled back, 6 timed out, 7 commit older than
  the running one, 8 another deployment in progress, 9 drift, 130/143 SIGINT/SIGTERM`;

export type DeployArgs = DeployOptions & { region?: string; output: 'text' | 'json' };

export function parseDeployArgs(argv: string[]): DeployArgs | 'help' {
  const v = parseOptions(argv, {
    cluster: { type: 'string' },
    service: { type: 'string' },
    image: { type: 'string' },
    container: { type: 'string' },
    'git-sha': { type: 'string' },
    'allow-older': { type: 'boolean' },
    force: { type: 'boolean' },
    'from-latest': { type: 'boolean' },
    'from-service': { type: 'boolean' },
    'task-role-arn': { type: 'string' },
    'migration-secret-id': { type: 'string' },
    'capacity-provider-strategy': { type: 'string' },
    timeout: { type: 'string' },
    'start-timeout': { type: 'string' },
    'max-failed-tasks': { type: 'string' },
    'smoke-url': { type: 'string' },
    'smoke-timeout': { type: 'string' },
    output: { type: 'string' },
    region: { type: 'string' },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  const image = requireString(v, 'image');
  if (/\s/.test(image)) throw new UsageError('--image must not contain spaces');
  const gitSha = optionalString(v, 'git-sha')?.toLowerCase();
  if (gitSha !== undefined && !/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(gitSha)) {
    throw new UsageError('--git-sha must be a full commit SHA (40 hex digits)');
  }
  if (v['from-latest'] && v['from-service']) {
    throw new UsageError('--from-latest and --from-service exclude each other');
  }
  const smokeUrl = optionalString(v, 'smoke-url');
  if (smokeUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(smokeUrl);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol)) {
      throw new UsageError('--smoke-url must be an http(s) URL');
    }
  }
  const output = optionalString(v, 'output') ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError('--output must be text or json');
  const role = optionalString(v, 'task-role-arn');
  const strategy = optionalString(v, 'capacity-provider-strategy');
  return {
    cluster: requireString(v, 'cluster'),
    service: requireString(v, 'service'),
    image,
    container: optionalString(v, 'container'),
    timeoutSeconds: positiveInt(v.timeout, 'timeout', 900),
    dryRun: v['dry-run'] === true,
    gitSha,
    allowOlder: v['allow-older'] === true,
    force: v.force === true,
    from: v['from-latest'] ? 'latest' : v['from-service'] ? 'service' : undefined,
    taskRoleArn: role === undefined ? undefined : roleArn(role, 'task-role-arn'),
    migrationSecretId: optionalString(v, 'migration-secret-id'),
    capacityProviderStrategy:
      strategy === undefined ? undefined : capacityProviderStrategy(strategy),
    startTimeoutSeconds: positiveInt(v['start-timeout'], 'start-timeout', 300),
    maxFailedTasks:
      v['max-failed-tasks'] === undefined
        ? undefined
        : positiveInt(v['max-failed-tasks'], 'max-failed-tasks', 0, 'tasks'),
    smokeUrl,
    smokeTimeoutSeconds: positiveInt(v['smoke-timeout'], 'smoke-timeout', 120),
    output,
    region: optionalString(v, 'region'),
  };
}

/** Whether argv asks for JSON, even when it fails to parse (the report is JSON then too). */
export function wantsJson(argv: string[]): boolean {
  return argv.some((a, i) => a === '--output=json' || (a === '--output' && argv[i + 1] === 'json'));
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const json = wantsJson(argv);
  const progress: DeployProgress = {};
  const controller = new AbortController();
  // With --output json, stdout carries the one JSON object only.
  const say = (line: string) => (json ? console.error(line) : console.log(line));
  const removeHandlers = abortOnSignals(controller, (line) => console.error(`deploy: ${line}`));
  let help = false;
  runCli(
    'deploy',
    USAGE,
    async () => {
      const args = parseDeployArgs(argv);
      if (args === 'help') {
        help = true;
        console.log(USAGE);
        return;
      }
      const { ecs, logsFor } = awsClients(args.region);
      await deploy(
        args,
        { ecs, logsFor, out: say, waiter: realWaiter, signal: controller.signal },
        progress,
      );
    },
    ({ code, message }) => {
      removeHandlers();
      if (help) return;
      const report = deployReport(progress, code, message);
      if (json) console.log(JSON.stringify(report));
      writeGithubActions(report, 'portal-api deploy');
    },
  );
}
