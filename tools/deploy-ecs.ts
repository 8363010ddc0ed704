import { realWaiter } from './ecs/common';
import { awsClients } from './ecs/clients';
import { parseOptions, positiveInt, requireString, runCli, UsageError } from './lib/cli';
import { deploy, DeployOptions } from './ecs/deploy';

export const USAGE = `usage: npm run deploy -- --cluster NAME --service NAME --image IMAGE
         [--container NAME] [--timeout SECONDS] [--region REGION] [--dry-run]

Registers the service's task definition again with IMAGE, runs the migrations as a one-off
task from it, then updates the service and waits until its deployment is COMPLETED.

  --container  the container to deploy to (default: the only one, else "app")
  --timeout    seconds all waits may take together (default 900)
  --region     AWS region (default: AWS_REGION)
  --dry-run    print the plan and the task definition diff; change nothing

exit codes: 0 deployed, 1 AWS or unexpected error, 2 usage, 3 migration failed,
            4 deploy failed, 5 rolled back by the circuit breaker, 6 timed out`;

export function parseDeployArgs(argv: string[]): (DeployOptions & { region?: string }) | 'help' {
  const v = parseOptions(argv, {
    cluster: { type: 'string' },
    service: { type: 'string' },
    image: { type: 'string' },
    container: { type: 'string' },
    timeout: { type: 'string' },
    region: { type: 'string' },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  const image = requireString(v, 'image');
  if (/\s/.test(image)) throw new UsageError('--image must not contain spaces');
  return {
    cluster: requireString(v, 'cluster'),
    service: requireString(v, 'service'),
    image,
    container: typeof v.container === 'string' ? v.container : undefined,
    timeoutSeconds: positiveInt(v.timeout, 'timeout', 900),
    dryRun: v['dry-run'] === true,
    region: typeof v.region === 'string' ? v.region : undefined,
  };
}

if (require.main === module) {
  runCli('deploy', USAGE, async () => {
    const args = parseDeployArgs(process.argv.slice(2));
    if (args === 'help') {
      console.log(USAGE);
      return;
    }
    const { ecs, logsFor } = awsClients(args.region);
    await deploy(args, { ecs, logsFor, out: (l) => console.log(l), waiter: realWaiter });
  });
}
