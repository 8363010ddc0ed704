import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CLUSTER,
  deployment,
  fakeWaiter,
  NEW_IMAGE,
  OLD_IMAGE,
  REGION,
  service,
  SERVICE,
  task,
  taskArn,
  taskDefinition,
  tdArn,
} from '../../test/utils/ecs-fakes';
import { ExitCode, ToolError } from './common';
import { deploy, DeployOptions, MIGRATION_COMMAND } from './deploy';

const ecs = mockClient(ECSClient);
const logs = mockClient(CloudWatchLogsClient);
const MIGRATION_TASK = 'mig0001';

let lines: string[];
let waiter: ReturnType<typeof fakeWaiter>;

function options(overrides: Partial<DeployOptions> = {}): DeployOptions {
  return {
    cluster: CLUSTER,
    service: SERVICE,
    image: NEW_IMAGE,
    timeoutSeconds: 900,
    dryRun: false,
    ...overrides,
  };
}

function run(overrides: Partial<DeployOptions> = {}) {
  return deploy(options(overrides), {
    ecs: new ECSClient({ region: REGION }),
    logsFor: (region) => new CloudWatchLogsClient({ region: region ?? REGION }),
    out: (l) => lines.push(l),
    waiter,
    pollMs: 5_000,
  });
}

async function failure(p: Promise<unknown>): Promise<ToolError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
  throw new Error('expected the deploy to fail');
}

const output = () => lines.join('\n');
const commandNames = () => ecs.calls().map((c) => (c.args[0] as object).constructor.name);

const newDeployment = (o: Parameters<typeof deployment>[0] = {}) =>
  deployment({
    id: 'ecs-svc/2',
    taskDefinition: tdArn(42),
    rolloutState: 'IN_PROGRESS',
    runningCount: 0,
    ...o,
  });
const oldDeployment = (o: Parameters<typeof deployment>[0] = {}) =>
  deployment({ id: 'ecs-svc/1', status: 'ACTIVE', ...o });

/** The service as UpdateService answers and the following DescribeServices calls see it. */
function serviceAfterUpdate(...deployments: ReturnType<typeof deployment>[]) {
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  return service({ taskDefinition: primary?.taskDefinition, deployments });
}

/** Everything up to and including a successful migration task. */
function happyUntilMigration() {
  ecs.on(DescribeServicesCommand).resolvesOnce({ services: [service()], failures: [] });
  ecs.on(DescribeTaskDefinitionCommand).resolves({
    taskDefinition: taskDefinition(41),
    tags: [{ key: 'team', value: 'portal' }],
  });
  ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: taskDefinition(42, NEW_IMAGE) });
  ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(MIGRATION_TASK) }], failures: [] });
  ecs
    .on(DescribeTasksCommand)
    // Not visible yet right after RunTask: the tool polls on.
    .resolvesOnce({ tasks: [], failures: [{ arn: taskArn(MIGRATION_TASK), reason: 'MISSING' }] })
    .resolvesOnce({
      tasks: [task(MIGRATION_TASK, { lastStatus: 'PROVISIONING', startedAt: undefined })],
    })
    .resolvesOnce({ tasks: [task(MIGRATION_TASK, { lastStatus: 'RUNNING' })] })
    .resolves({ tasks: [task(MIGRATION_TASK, {}, 0)] });
  logs.on(GetLogEventsCommand).resolves({
    events: [{ message: '{"level":"info","msg":"applied migration AddWarnings1795448641999"}\n' }],
  });
}

function updateStarts() {
  ecs.on(UpdateServiceCommand).resolves({
    service: serviceAfterUpdate(newDeployment(), oldDeployment()),
  });
}

beforeEach(() => {
  ecs.reset();
  logs.reset();
  lines = [];
  waiter = fakeWaiter();
});

describe('deploy: the happy path', () => {
  it('registers, migrates, updates and waits for its own deployment to complete', async () => {
    happyUntilMigration();
    updateStarts();
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolvesOnce({
        services: [
          {
            ...serviceAfterUpdate(newDeployment({ runningCount: 1 }), oldDeployment()),
            events: [
              { id: 'ev-2', message: '(service portal-api) has started 1 tasks' },
              { id: 'ev-old', message: 'old news' },
            ],
          },
        ],
      })
      .resolves({
        services: [
          serviceAfterUpdate(newDeployment({ rolloutState: 'COMPLETED', runningCount: 2 })),
        ],
      });

    const result = await run();

    expect(result.taskDefinitionArn).toBe(tdArn(42));
    expect(commandNames()).toEqual([
      'DescribeServicesCommand',
      'DescribeTaskDefinitionCommand',
      'RegisterTaskDefinitionCommand',
      'RunTaskCommand',
      'DescribeTasksCommand',
      'DescribeTasksCommand',
      'DescribeTasksCommand',
      'DescribeTasksCommand',
      'UpdateServiceCommand',
      'DescribeServicesCommand',
      'DescribeServicesCommand',
    ]);

    // The current definition, tags included, is read and registered again with the new image only.
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0].args[0].input).toEqual({
      taskDefinition: tdArn(41),
      include: ['TAGS'],
    });
    const registered = ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input;
    const expected = taskDefinition(41);
    expect(registered.containerDefinitions).toEqual([
      { ...expected.containerDefinitions![0], image: NEW_IMAGE },
    ]);
    expect(registered).toMatchObject({
      family: 'portal-api',
      taskRoleArn: expected.taskRoleArn,
      executionRoleArn: expected.executionRoleArn,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '512',
      memory: '1024',
      runtimePlatform: expected.runtimePlatform,
      tags: [{ key: 'team', value: 'portal' }],
    });
    for (const readOnly of [
      'taskDefinitionArn',
      'revision',
      'status',
      'compatibilities',
      'requiresAttributes',
      'registeredAt',
      'registeredBy',
    ]) {
      expect(registered).not.toHaveProperty(readOnly);
    }

    // The migration runs from the new revision, placed like the service, with a command override.
    const runTask = ecs.commandCalls(RunTaskCommand)[0].args[0].input;
    expect(runTask).toMatchObject({
      cluster: CLUSTER,
      taskDefinition: tdArn(42),
      count: 1,
      launchType: 'FARGATE',
      platformVersion: 'LATEST',
      networkConfiguration: service().networkConfiguration,
      overrides: { containerOverrides: [{ name: 'app', command: MIGRATION_COMMAND }] },
      startedBy: 'portal-api-deploy',
    });
    expect(runTask.clientToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(runTask).not.toHaveProperty('capacityProviderStrategy');
    expect(MIGRATION_COMMAND).toEqual(['node', 'dist/src/database/migrate.js']);

    // Its log tail comes from the awslogs stream prefix/container/task-id.
    expect(logs.commandCalls(GetLogEventsCommand)[0].args[0].input).toEqual({
      logGroupName: '/ecs/portal-api',
      logStreamName: `ecs/app/${MIGRATION_TASK}`,
      limit: 50,
      startFromHead: false,
    });
    expect(output()).toContain(
      '| {"level":"info","msg":"applied migration AddWarnings1795448641999"}',
    );

    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toEqual({
      cluster: CLUSTER,
      service: SERVICE,
      taskDefinition: tdArn(42),
    });

    // Progress, new service events once, never the old ones; every wait was a bounded poll.
    expect(output()).toContain('event: (service portal-api) has started 1 tasks');
    expect(output()).not.toContain('old news');
    expect(output()).toContain('migration task mig0001 exited with code 0');
    expect(output()).toContain('deployed: service "portal-api" runs portal-api:42');
    expect(waiter.slept.every((ms) => ms === 5_000)).toBe(true);
  });

  it('places the migration task with the service capacity provider strategy', async () => {
    happyUntilMigration();
    const strategy = [{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }];
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({
        services: [service({ launchType: undefined, capacityProviderStrategy: strategy })],
      })
      .resolves({
        services: [
          serviceAfterUpdate(newDeployment({ rolloutState: 'COMPLETED', runningCount: 2 })),
        ],
      });
    updateStarts();

    await run();

    const input = ecs.commandCalls(RunTaskCommand)[0].args[0].input;
    expect(input.capacityProviderStrategy).toEqual(strategy);
    expect(input).not.toHaveProperty('launchType');
  });

  it('accepts a service that reports no rolloutState once only the new deployment is left', async () => {
    happyUntilMigration();
    ecs.on(UpdateServiceCommand).resolves({
      service: serviceAfterUpdate(
        newDeployment({ rolloutState: undefined }),
        oldDeployment({ rolloutState: undefined }),
      ),
    });
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolvesOnce({
        services: [
          serviceAfterUpdate(
            newDeployment({ rolloutState: undefined, runningCount: 2 }),
            oldDeployment({ rolloutState: undefined }),
          ),
        ],
      })
      .resolves({
        services: [serviceAfterUpdate(newDeployment({ rolloutState: undefined, runningCount: 2 }))],
      });

    await run();
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(3);
  });
});

describe('deploy --dry-run', () => {
  it('prints the plan and the diff and makes no change', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: taskDefinition(41) });

    const result = await run({ dryRun: true });

    expect(result).toEqual({});
    expect(commandNames()).toEqual(['DescribeServicesCommand', 'DescribeTaskDefinitionCommand']);
    expect(logs.calls()).toHaveLength(0);
    const text = output();
    expect(text).toContain('(dry run: nothing will be changed)');
    expect(text).toContain('now:         portal-api:41 (desired 2, running 2)');
    expect(text).toContain('node dist/src/database/migrate.js');
    expect(text).toContain('launch type FARGATE; platform LATEST; subnets subnet-a,subnet-b');
    expect(text).toContain('circuit breaker on, rollback on');
    // The diff is exactly the image.
    const diff = lines.filter((l) => /^ {2}[~+-] /.test(l));
    expect(diff).toEqual([`  ~ containerDefinitions[app].image: "${OLD_IMAGE}" -> "${NEW_IMAGE}"`]);
    expect(text).toContain('dry run: nothing was changed');
  });

  it('warns when the circuit breaker is off', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [service({ deploymentConfiguration: { maximumPercent: 200 } })],
    });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: taskDefinition(41) });
    await run({ dryRun: true });
    expect(output()).toContain('warning: the deployment circuit breaker is off');
  });
});

describe('deploy: arguments that do not fit the service (exit 2)', () => {
  it('an unknown service', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [],
      failures: [{ arn: SERVICE, reason: 'MISSING' }],
    });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toMatch(
      /no active service "portal-api" in cluster "portal-dev" \(MISSING\)/,
    );
  });

  it('an unknown container', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: taskDefinition(41) });
    const err = await failure(run({ container: 'web' }));
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toMatch(/no container "web" \(it has: app\)/);
    expect(commandNames()).not.toContain('RegisterTaskDefinitionCommand');
  });

  it('several containers and no --container', async () => {
    const td = taskDefinition(41);
    td.containerDefinitions = [
      { ...td.containerDefinitions![0], name: 'api' },
      { name: 'datadog', image: 'datadog/agent:7' },
    ];
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: td });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toMatch(/several containers \(api, datadog\): pick one with --container/);
  });

  it('a service deployed by CodeDeploy', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [service({ deploymentController: { type: 'CODE_DEPLOY' } })],
    });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toMatch(/CODE_DEPLOY deployment controller/);
  });
});

describe('deploy: the migration fails (exit 3) and the service is left alone', () => {
  beforeEach(() => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: taskDefinition(41) });
    ecs
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: taskDefinition(42, NEW_IMAGE) });
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: 'migration failed: boom' }] });
  });

  afterEach(() => {
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('RunTask answers failures[]', async () => {
    ecs.on(RunTaskCommand).resolves({
      tasks: [],
      failures: [{ reason: 'RESOURCE:ENI', detail: 'no free IP addresses in subnet-a' }],
    });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(
      /migration failed: the migration task could not be started: RESOURCE:ENI: no free IP addresses in subnet-a/,
    );
    expect(err.message).toMatch(/still runs portal-api:41/);
  });

  it('the task never started', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn('t1') }] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task('t1', {
          startedAt: undefined,
          stopCode: 'TaskFailedToStart',
          stoppedReason:
            'CannotPullContainerError: pull image manifest has been retried 1 time(s): not found',
          containers: [{ name: 'app', lastStatus: 'STOPPED' }],
        }),
      ],
    });
    logs.on(GetLogEventsCommand).rejects(
      Object.assign(new Error('The specified log stream does not exist.'), {
        name: 'ResourceNotFoundException',
      }),
    );
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(/the migration task t1 never started: CannotPullContainerError/);
    // No log stream is only a note.
    expect(output()).toContain(
      '(no log tail from /ecs/portal-api ecs/app/t1: ResourceNotFoundException',
    );
  });

  it('the container exits non-zero: its log tail is printed', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn('t2') }] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t2', {}, 1)] });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(
      /the migration task t2 exited with code 1: Essential container in task exited/,
    );
    expect(output()).toContain('| migration failed: boom');
  });

  it('the container has no exit code', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn('t3') }] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task('t3', {
          stopCode: 'SpotInterruption',
          stoppedReason: 'Your Spot Task was interrupted.',
          containers: [{ name: 'app', lastStatus: 'STOPPED', reason: 'OutOfMemoryError' }],
        }),
      ],
    });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(
      /stopped without an exit code for container "app": Your Spot Task was interrupted.; OutOfMemoryError/,
    );
  });

  it('the task does not stop in time (exit 6) and is left running', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn('t4') }] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t4', { lastStatus: 'RUNNING' })] });
    const err = await failure(run({ timeoutSeconds: 60 }));
    expect(err.exitCode).toBe(ExitCode.TIMED_OUT);
    expect(err.message).toMatch(
      /did not stop within 60 s \(last status RUNNING\); it was left running/,
    );
    // Bounded: 60 s of 5 s polls, then the log tail so far.
    expect(ecs.commandCalls(DescribeTasksCommand).length).toBeLessThanOrEqual(13);
    expect(waiter.slept.reduce((a, b) => a + b, 0)).toBe(60_000);
    expect(logs.commandCalls(GetLogEventsCommand)).toHaveLength(1);
  });
});

describe('deploy: the rollout goes wrong', () => {
  beforeEach(() => {
    happyUntilMigration();
    updateStarts();
  });

  it('the circuit breaker rolls back (exit 5)', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolvesOnce({ services: [serviceAfterUpdate(newDeployment(), oldDeployment())] })
      .resolves({
        services: [
          serviceAfterUpdate(
            deployment({ id: 'ecs-svc/3', taskDefinition: tdArn(41), rolloutState: 'IN_PROGRESS' }),
            newDeployment({
              status: 'ACTIVE',
              rolloutState: 'FAILED',
              rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
              failedTasks: 4,
            }),
          ),
        ],
      });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.ROLLED_BACK);
    expect(err.message).toBe(
      'the deployment failed and the circuit breaker rolled the service back to portal-api:41: ' +
        'ECS deployment circuit breaker: tasks failed to start.',
    );
  });

  it('the rolled back deployment is already gone from the list (exit 5)', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolves({ services: [serviceAfterUpdate(deployment({ id: 'ecs-svc/3' }))] });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.ROLLED_BACK);
  });

  it('waits while DescribeServices still shows the service as before the update', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolvesOnce({ services: [service()] }) // not caught up yet: no rollback
      .resolves({
        services: [
          serviceAfterUpdate(newDeployment({ rolloutState: 'COMPLETED', runningCount: 2 })),
        ],
      });
    await expect(run()).resolves.toEqual({ taskDefinitionArn: tdArn(42) });
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(3);
  });

  it('another deployment replaces this one (exit 4)', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolves({
        services: [
          serviceAfterUpdate(
            deployment({ id: 'ecs-svc/9', taskDefinition: tdArn(43), rolloutState: 'IN_PROGRESS' }),
            newDeployment({ status: 'ACTIVE' }),
          ),
        ],
      });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.DEPLOY_FAILED);
    expect(err.message).toMatch(/another deployment \(portal-api:43\) replaced this one/);
  });

  it('the deployment fails without a rollback (exit 4)', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolves({
        services: [
          serviceAfterUpdate(
            newDeployment({ rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start' }),
            oldDeployment(),
          ),
        ],
      });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.DEPLOY_FAILED);
    expect(err.message).toMatch(/the deployment failed: tasks failed to start/);
  });

  it('the service disappears (exit 4)', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.DEPLOY_FAILED);
  });

  it('the deployment does not complete in time (exit 6), within one deadline for all waits', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolves({
        services: [serviceAfterUpdate(newDeployment({ runningCount: 1 }), oldDeployment())],
      });
    const err = await failure(run({ timeoutSeconds: 120 }));
    expect(err.exitCode).toBe(ExitCode.TIMED_OUT);
    expect(err.message).toMatch(
      /did not complete within 120 s \(IN_PROGRESS: running 1\/2, pending 0, failed 0\)/,
    );
    expect(waiter.slept.reduce((a, b) => a + b, 0)).toBe(120_000);
  });

  it('an AWS error is not swallowed', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(run()).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});
