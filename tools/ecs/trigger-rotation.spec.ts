import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CLUSTER,
  fakeWaiter,
  logEvents,
  REGION,
  roleArn,
  service,
  SERVICE,
  task,
  taskArn,
  taskDefinition,
  tdArn,
} from '../../test/utils/ecs-fakes';
import { ExitCode, ToolError } from './common';
import { triggerRotation, TriggerOptions } from './trigger-rotation';

const ecs = mockClient(ECSClient);
const logs = mockClient(CloudWatchLogsClient);
let lines: string[];

const options = (o: Partial<TriggerOptions> = {}): TriggerOptions => ({
  cluster: CLUSTER,
  service: SERVICE,
  email: 'admin@example.com',
  role: 'ADM',
  disabled: false,
  timeoutSeconds: 600,
  ...o,
});

const run = (o: Partial<TriggerOptions> = {}) =>
  triggerRotation(options(o), {
    ecs: new ECSClient({ region: REGION }),
    logsFor: () => new CloudWatchLogsClient({ region: REGION }),
    out: (l) => lines.push(l),
    waiter: fakeWaiter(),
    pollMs: 5_000,
  });

async function failure(p: Promise<unknown>): Promise<ToolError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

beforeEach(() => {
  ecs.reset();
  logs.reset();
  lines = [];
  ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
  ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: taskDefinition(41) });
  ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn('rot1') }] });
  logs
    .on(GetLogEventsCommand)
    .resolves(logEvents(['promoted version 5f0c... to AWSCURRENT'], 'f/38000000000000000000001'));
});

afterEach(() => {
  // A rotation never changes the service or its task definitions.
  expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
});

describe('rotate-password trigger', () => {
  it('runs the rotation CLI from the service task definition, placed like the service', async () => {
    ecs
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [task('rot1', { lastStatus: 'RUNNING' })] })
      .resolves({ tasks: [task('rot1', {}, 0)] });

    await run({ disabled: true, secretId: 'portal/dev/admin' });

    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0].args[0].input).toEqual({
      taskDefinition: tdArn(41),
      include: ['TAGS'],
    });
    const input = ecs.commandCalls(RunTaskCommand)[0].args[0].input;
    expect(input).toMatchObject({
      cluster: CLUSTER,
      taskDefinition: tdArn(41),
      launchType: 'FARGATE',
      networkConfiguration: service().networkConfiguration,
      startedBy: 'portal-api-rotate-password',
      overrides: {
        containerOverrides: [
          {
            name: 'app',
            command: [
              'node',
              'dist/tools/rotate-password.js',
              '--email',
              'admin@example.com',
              '--role',
              'ADM',
              '--disabled',
              '--secret-id',
              'portal/dev/admin',
            ],
          },
        ],
      },
    });
    const text = lines.join('\n');
    expect(text).toContain('rotating the password of admin@example.com with portal-api:41');
    expect(text).toContain('| promoted version 5f0c... to AWSCURRENT');
    expect(text).toContain('password rotation task rot1 exited with code 0');
  });

  it('runs another revision when asked, and says so', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: taskDefinition(43) });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('rot1', {}, 0)] });
    await run({ taskDefinition: 'portal-api' });
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0].args[0].input).toEqual({
      taskDefinition: 'portal-api',
      include: ['TAGS'],
    });
    expect(ecs.commandCalls(RunTaskCommand)[0].args[0].input.taskDefinition).toBe(tdArn(43));
    expect(lines.join('\n')).toContain(
      'note: running portal-api:43; the service runs portal-api:41',
    );
  });

  // #15 item 7: the internet-facing service's role never needs write access to the secret.
  it('--task-role-arn runs it as the rotation role, on on-demand FARGATE', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        service({
          launchType: undefined,
          capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        }),
      ],
    });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('rot1', {}, 0)] });
    await run({ taskRoleArn: roleArn('portal-api-rotation') });
    const input = ecs.commandCalls(RunTaskCommand)[0].args[0].input;
    expect(input.overrides?.taskRoleArn).toBe(roleArn('portal-api-rotation'));
    expect(input.launchType).toBe('FARGATE');
    expect(input).not.toHaveProperty('capacityProviderStrategy');
    expect(lines.join('\n')).toContain(`task role ${roleArn('portal-api-rotation')}`);
  });

  // #15 item 10: what a failed deploy left is never run.
  it('refuses a revision marked failed by the deploy tool', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: taskDefinition(42),
      tags: [{ key: 'portal-api:status', value: 'failed' }],
    });
    const err = await failure(run({ taskDefinition: 'portal-api:42' }));
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toBe(
      'portal-api:42 is marked portal-api:status=failed: it must not run; pick another revision with --task-definition',
    );
    expect(ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
  });

  // #15 item 8
  it('stops a task that does not reach RUNNING within --start-timeout (exit 3)', async () => {
    ecs
      .on(DescribeTasksCommand)
      .resolves({ tasks: [task('rot1', { lastStatus: 'PENDING', startedAt: undefined })] });
    ecs.on(StopTaskCommand).resolves({});
    const err = await failure(run({ startTimeoutSeconds: 60 }));
    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(
      /did not start within 60 s \(last status PENDING\): it was stopped/,
    );
    expect(ecs.commandCalls(StopTaskCommand)[0].args[0].input).toMatchObject({
      task: taskArn('rot1'),
    });
  });

  it('reports the exit code of a failed rotation (exit 3)', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('rot1', {}, 1)] });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(/the password rotation task rot1 exited with code 1/);
    expect(err.message).toMatch(/Run it again/);
  });

  it('reports a task that could not start (exit 3)', async () => {
    ecs.on(RunTaskCommand).resolves({ failures: [{ reason: 'ACCESS_DENIED' }] });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(/could not be started: ACCESS_DENIED/);
  });

  it('gives up after --timeout (exit 6)', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('rot1', { lastStatus: 'RUNNING' })] });
    const err = await failure(run({ timeoutSeconds: 30 }));
    expect(err.exitCode).toBe(ExitCode.TIMED_OUT);
    expect(err.message).toMatch(
      /did not stop within 30 s \(last status RUNNING\); it was left running/,
    );
  });
});
