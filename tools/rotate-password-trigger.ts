import { realWaiter } from './ecs/common';
import { awsClients } from './ecs/clients';
import { triggerRotation, TriggerOptions } from './ecs/trigger-rotation';
import {
  capacityProviderStrategy,
  optionalString,
  parseOptions,
  positiveInt,
  requireString,
  roleArn,
  runCli,
} from './lib/cli';
import { abortOnSignals } from './lib/signals';

export const USAGE = `usage: npm run rotate-password:trigger -- --cluster NAME --service NAME
         --email EMAIL --role ADM|PRESIDENT|USER [--disabled] [--secret-id ID]
         [--task-role-arn ARN] [--task-definition FAMILY[:REVISION]] [--container NAME]
         [--capacity-provider-strategy LIST] [--timeout SECONDS] [--start-timeout SECONDS]
         [--region REGION]

Runs tools/rotate-password.ts inside the service's image as a standalone Fargate task (the
task definition the service runs, its network placement, on-demand capacity), prints its log
lines while it runs, waits for it to stop and reports its exit code.

  --task-role-arn    the rotation's own IAM role (write access to the admin password secret),
                     so the service's role never needs it
  --task-definition  run another revision or family than the service's (family alone: its
                     latest ACTIVE revision; one marked portal-api:status is refused)
  --capacity-provider-strategy  NAME[:WEIGHT[:BASE]],... (default: on-demand FARGATE)
  --timeout          seconds to wait for the task (default 600)
  --start-timeout    seconds the task may take to reach RUNNING, then it is stopped (default 300)

exit codes (docs/deploy.md): 0 rotated, 1 AWS or unexpected error, 2 usage, 3 the rotation
  task failed (its exit code is printed; run again), 6 timed out, 130/143 SIGINT/SIGTERM
  (the task was stopped)`;

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
    'task-role-arn': { type: 'string' },
    'capacity-provider-strategy': { type: 'string' },
    timeout: { type: 'string' },
    'start-timeout': { type: 'string' },
    region: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  const role = optionalString(v, 'task-role-arn');
  const strategy = optionalString(v, 'capacity-provider-strategy');
  return {
    cluster: requireString(v, 'cluster'),
    service: requireString(v, 'service'),
    email: requireString(v, 'email'),
    role: requireString(v, 'role'),
    disabled: v.disabled === true,
    secretId: optionalString(v, 'secret-id'),
    container: optionalString(v, 'container'),
    taskDefinition: optionalString(v, 'task-definition'),
    taskRoleArn: role === undefined ? undefined : roleArn(role, 'task-role-arn'),
    capacityProviderStrategy:
      strategy === undefined ? undefined : capacityProviderStrategy(strategy),
    timeoutSeconds: positiveInt(v.timeout, 'timeout', 600),
    startTimeoutSeconds: positiveInt(v['start-timeout'], 'start-timeout', 300),
    region: optionalString(v, 'region'),
  };
}

if (require.main === module) {
  const controller = new AbortController();
  const removeHandlers = abortOnSignals(controller, (line) =>
    console.error(`rotate-password:trigger: ${line}`),
  );
  runCli(
    'rotate-password:trigger',
    USAGE,
    async () => {
      const args = parseTriggerArgs(process.argv.slice(2));
      if (args === 'help') {
        console.log(USAGE);
        return;
      }
      const { ecs, logsFor } = awsClients(args.region);
      await triggerRotation(args, {
        ecs,
        logsFor,
        out: (l) => console.log(l),
        waiter: realWaiter,
        signal: controller.signal,
      });
    },
    removeHandlers,
  );
}
