import { realWaiter } from './ecs/common';
import { awsClients } from './ecs/clients';
import { triggerRotation, TriggerOptions } from './ecs/trigger-rotation';
import { parseOptions, positiveInt, requireString, runCli } from './lib/cli';

export const USAGE = `usage: npm run rotate-password:trigger -- --cluster NAME --service NAME
         --email EMAIL --role ADM|PRESIDENT|USER [--disabled] [--secret-id ID]
         [--container NAME] [--task-definition FAMILY[:REVISION]] [--timeout SECONDS]
         [--region REGION]

Runs tools/rotate-password.ts inside the service's image as a standalone Fargate task (the
task definition the service runs, its network placement), waits for it to stop, prints its
log tail and reports its exit code.

  --task-definition  run another revision than the service's (family alone: its latest)
  --timeout          seconds to wait for the task (default 600)

exit codes: 0 rotated, 1 AWS or unexpected error, 2 usage, 3 the rotation task failed
            (its exit code is printed; run again), 6 timed out`;

export function parseTriggerArgs(argv: string[]): (TriggerOptions & { region?: string }) | 'help' {
  const v = parseOptions(argv, {
    cluster: { type: 'string' },
    service: { type: 'string' },
    email: { type: 'string' },
    role: { type: 'string' },
    disabled: { type: 'boolean' },
    'secret-id': { type: 'string' },
    container: { type: 'string' },
    'task-definition': { type: 'string' },
    timeout: { type: 'string' },
    region: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  const str = (k: keyof typeof v) => (typeof v[k] === 'string' ? v[k] : undefined);
  return {
    cluster: requireString(v, 'cluster'),
    service: requireString(v, 'service'),
    email: requireString(v, 'email'),
    role: requireString(v, 'role'),
    disabled: v.disabled === true,
    secretId: str('secret-id'),
    container: str('container'),
    taskDefinition: str('task-definition'),
    timeoutSeconds: positiveInt(v.timeout, 'timeout', 600),
    region: str('region'),
  };
}

if (require.main === module) {
  runCli('rotate-password:trigger', USAGE, async () => {
    const args = parseTriggerArgs(process.argv.slice(2));
    if (args === 'help') {
      console.log(USAGE);
      return;
    }
    const { ecs, logsFor } = awsClients(args.region);
    await triggerRotation(args, { ecs, logsFor, out: (l) => console.log(l), waiter: realWaiter });
  });
}
