import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  ClientException,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  Service,
  StopTaskCommand,
  Tag,
  TagResourceCommand,
  TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  awsErrors,
  CLUSTER,
  DEP,
  deployment,
  event,
  fakeWaiter,
  logEvents,
  NEW_IMAGE,
  NEW_SHA,
  OLD_IMAGE,
  OLD_SHA,
  REGION,
  roleArn,
  service,
  SERVICE,
  task,
  taskArn,
  taskDefinition,
  taskId,
  tdArn,
} from '../../test/utils/ecs-fakes';
import { freePort } from '../../src/common/free-port';
import { ExitCode, ToolError } from './common';
import { deploy, DeployOptions, MIGRATION_COMMAND } from './deploy';
import { Git, localGit } from './git';
import { DeployProgress } from './report';

const ecs = mockClient(ECSClient);
const logs = mockClient(CloudWatchLogsClient);
const MIGRATION_TASK = taskId('mig');

let lines: string[];
let waiter: ReturnType<typeof fakeWaiter>;
let progress: DeployProgress;
/** The service as the tool finds it (see happyUntilMigration). */
let startService: Service;
/** Every commit descends from every other one, unless a test brings a real repository. */
const anyOrder: Git = { ancestry: () => Promise.resolve('ancestor') };

function options(overrides: Partial<DeployOptions> = {}): DeployOptions {
  return {
    cluster: CLUSTER,
    service: SERVICE,
    image: NEW_IMAGE,
    timeoutSeconds: 900,
    dryRun: false,
    gitSha: NEW_SHA,
    ...overrides,
  };
}

function run(
  overrides: Partial<DeployOptions> = {},
  extra: { git?: Git; signal?: AbortSignal } = {},
) {
  return deploy(
    options(overrides),
    {
      ecs: new ECSClient({ region: REGION }),
      logsFor: (region) => new CloudWatchLogsClient({ region: region ?? REGION }),
      out: (l) => lines.push(l),
      waiter,
      pollMs: 5_000,
      git: extra.git ?? anyOrder,
      signal: extra.signal,
    },
    progress,
  );
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
    id: DEP.ours,
    taskDefinition: tdArn(42),
    rolloutState: 'IN_PROGRESS',
    runningCount: 0,
    ...o,
  });
const oldDeployment = (o: Parameters<typeof deployment>[0] = {}) =>
  deployment({ id: DEP.old, status: 'ACTIVE', ...o });

/** The service as UpdateService answers and the following DescribeServices calls see it. */
function serviceAfterUpdate(...deployments: ReturnType<typeof deployment>[]) {
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  return service({ taskDefinition: primary?.taskDefinition, deployments });
}
const completed = () =>
  serviceAfterUpdate(newDeployment({ rolloutState: 'COMPLETED', runningCount: 2 }));

/** DescribeTaskDefinition by ARN (the service's revision) and by family (its latest). */
function taskDefinitions(
  running: { td?: TaskDefinition; tags?: Tag[] } = {},
  latest?: { td: TaskDefinition; tags?: Tag[] },
) {
  const td = running.td ?? taskDefinition(41);
  const tags = running.tags ?? [
    { key: 'team', value: 'portal' },
    { key: 'portal-api:managed-by', value: 'deploy-tool' },
    { key: 'portal-api:git-sha', value: OLD_SHA },
  ];
  ecs
    .on(DescribeTaskDefinitionCommand, { taskDefinition: td.taskDefinitionArn })
    .resolves({ taskDefinition: td, tags });
  ecs
    .on(DescribeTaskDefinitionCommand, { taskDefinition: td.family })
    .resolves(
      latest
        ? { taskDefinition: latest.td, tags: latest.tags ?? [] }
        : { taskDefinition: td, tags },
    );
}

/** Everything up to and including a successful migration task. */
function happyUntilMigration(svc: Service = service()) {
  startService = svc;
  taskDefinitions();
  ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: taskDefinition(42, NEW_IMAGE) });
  ecs.on(RunTaskCommand).resolves({
    tasks: [task(MIGRATION_TASK, { lastStatus: 'PROVISIONING', startedAt: undefined })],
    failures: [],
  });
  ecs
    .on(DescribeTasksCommand)
    // Not visible yet right after RunTask: the tool polls on.
    .resolvesOnce({ tasks: [], failures: [{ arn: taskArn(MIGRATION_TASK), reason: 'MISSING' }] })
    .resolvesOnce({
      tasks: [task(MIGRATION_TASK, { lastStatus: 'PROVISIONING', startedAt: undefined })],
    })
    .resolvesOnce({ tasks: [task(MIGRATION_TASK, { lastStatus: 'RUNNING' })] })
    .resolves({ tasks: [task(MIGRATION_TASK, {}, 0)] });
  logs
    .on(GetLogEventsCommand)
    .resolves(
      logEvents(
        ['{"level":"info","msg":"applied migration AddWarnings1795448641999"}\n'],
        'f/38012345678901234567890123456789012345678901234567890',
      ),
    );
}

function updateStarts() {
  ecs.on(UpdateServiceCommand).resolves({
    service: serviceAfterUpdate(newDeployment(), oldDeployment()),
  });
}

/**
 * DescribeServices: the service before the update (happyUntilMigration's), read at the start
 * and again right before UpdateService, then these answers (the last one repeats).
 */
function servicesAfterStart(...answers: Service[]) {
  let chain = ecs
    .on(DescribeServicesCommand)
    .resolvesOnce({ services: [startService], failures: [] })
    .resolvesOnce({ services: [startService], failures: [] });
  for (const a of answers.slice(0, -1)) chain = chain.resolvesOnce({ services: [a] });
  chain.resolves({ services: [answers[answers.length - 1]] });
}

beforeEach(() => {
  ecs.reset();
  logs.reset();
  lines = [];
  waiter = fakeWaiter();
  progress = {};
  startService = service();
});

describe('deploy: the happy path', () => {
  it('registers, migrates, updates and waits for its own deployment to complete', async () => {
    happyUntilMigration();
    updateStarts();
    servicesAfterStart(
      {
        ...serviceAfterUpdate(newDeployment({ runningCount: 1 }), oldDeployment()),
        events: [
          event('ev-2', 'has started 1 tasks: (task 0a1b2c3d4e5f60718293a4b5c6d7e8f9).'),
          service().events![0],
        ],
      },
      completed(),
    );

    const result = await run();

    expect(result).toEqual({
      revisionArn: tdArn(42),
      deploymentId: DEP.ours,
      migrationTaskArn: taskArn(MIGRATION_TASK),
      outcome: 'deployed',
    });
    expect(commandNames()).toEqual([
      'DescribeServicesCommand',
      'DescribeTaskDefinitionCommand',
      'DescribeTaskDefinitionCommand',
      'RegisterTaskDefinitionCommand',
      'RunTaskCommand',
      'DescribeTasksCommand',
      'DescribeTasksCommand',
      'DescribeTasksCommand',
      'DescribeTasksCommand',
      'DescribeServicesCommand',
      'UpdateServiceCommand',
      'DescribeServicesCommand',
      'DescribeServicesCommand',
    ]);

    // The service's definition, tags included, and the family's latest revision are read.
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input)).toEqual([
      { taskDefinition: tdArn(41), include: ['TAGS'] },
      { taskDefinition: 'portal-api', include: ['TAGS'] },
    ]);
    // ... and registered again with the new image, stamped with the commit.
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
      tags: [
        { key: 'team', value: 'portal' },
        { key: 'portal-api:managed-by', value: 'deploy-tool' },
        { key: 'portal-api:git-sha', value: NEW_SHA },
      ],
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
    expect(runTask.overrides).not.toHaveProperty('taskRoleArn');
    expect(MIGRATION_COMMAND).toEqual(['node', 'dist/src/database/migrate.js']);

    // Its log lines come from the awslogs stream prefix/container/task-id, from the head.
    expect(logs.commandCalls(GetLogEventsCommand)[0].args[0].input).toEqual({
      logGroupName: '/ecs/portal-api',
      logStreamName: `ecs/app/${MIGRATION_TASK}`,
      startFromHead: true,
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
    expect(output()).not.toContain('has reached a steady state');
    expect(output()).toContain(`commit order: ${NEW_SHA} descends from the running ${OLD_SHA}`);
    expect(output()).toContain(`migration task ${MIGRATION_TASK} exited with code 0`);
    expect(output()).toContain('deployed: service "portal-api" runs portal-api:42');
    expect(waiter.slept.every((ms) => ms === 5_000)).toBe(true);
  });

  it('accepts a service that reports no rolloutState once only the new deployment is left', async () => {
    happyUntilMigration();
    ecs.on(UpdateServiceCommand).resolves({
      service: serviceAfterUpdate(
        newDeployment({ rolloutState: undefined }),
        oldDeployment({ rolloutState: undefined }),
      ),
    });
    servicesAfterStart(
      serviceAfterUpdate(
        newDeployment({ rolloutState: undefined, runningCount: 2 }),
        oldDeployment({ rolloutState: undefined }),
      ),
      serviceAfterUpdate(newDeployment({ rolloutState: undefined, runningCount: 2 })),
    );

    await run();
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(4);
  });
});

describe('deploy --dry-run', () => {
  it('prints the plan and the diff and makes no change', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    taskDefinitions();

    const result = await run({ dryRun: true });

    expect(result).toEqual({ outcome: 'planned' });
    expect(commandNames()).toEqual([
      'DescribeServicesCommand',
      'DescribeTaskDefinitionCommand',
      'DescribeTaskDefinitionCommand',
    ]);
    expect(logs.calls()).toHaveLength(0);
    const text = output();
    expect(text).toContain('(dry run: nothing will be changed)');
    expect(text).toContain('now:         portal-api:41 (desired 2, running 2)');
    expect(text).toContain('node dist/src/database/migrate.js');
    expect(text).toContain(
      'launch type FARGATE; platform LATEST; subnets subnet-0a1b2c3d4e5f60718,subnet-0b2c3d4e5f6071829',
    );
    expect(text).toContain('circuit breaker on, rollback on');
    // The diff is the image and the commit stamp.
    const diff = lines.filter((l) => /^ {2}[~+-] /.test(l));
    expect(diff).toEqual([
      `  ~ containerDefinitions[app].image: "${OLD_IMAGE}" -> "${NEW_IMAGE}"`,
      `  ~ tags[portal-api:git-sha].value: "${OLD_SHA}" -> "${NEW_SHA}"`,
    ]);
    expect(text).toContain('dry run: nothing was changed');
  });

  it('warns when the circuit breaker is off', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [service({ deploymentConfiguration: { maximumPercent: 200 } })],
    });
    taskDefinitions();
    await run({ dryRun: true });
    expect(output()).toContain('warning: the deployment circuit breaker is off');
  });
});

describe('deploy: arguments that do not fit the service (exit 2)', () => {
  it('an unknown service', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [],
      failures: [
        {
          arn: `arn:aws:ecs:${REGION}:123456789012:service/${CLUSTER}/${SERVICE}`,
          reason: 'MISSING',
        },
      ],
    });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toMatch(
      /no active service "portal-api" in cluster "portal-dev" \(MISSING\)/,
    );
  });

  it('an unknown container', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    taskDefinitions();
    const err = await failure(run({ container: 'web' }));
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toMatch(/no container "web" \(it has: app\)/);
    expect(commandNames()).not.toContain('RegisterTaskDefinitionCommand');
  });

  it('several containers and no --container', async () => {
    const td = taskDefinition(41);
    td.containerDefinitions = [
      { ...td.containerDefinitions![0], name: 'api' },
      { name: 'datadog', image: 'public.ecr.aws/datadog/agent:7', essential: false },
    ];
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    taskDefinitions({ td });
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
    taskDefinitions();
    ecs
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: taskDefinition(42, NEW_IMAGE) });
    ecs.on(TagResourceCommand).resolves({});
    ecs.on(DeregisterTaskDefinitionCommand).resolves({ taskDefinition: taskDefinition(42) });
    logs
      .on(GetLogEventsCommand)
      .resolves(
        logEvents(
          ['migration failed: boom'],
          'f/38000000000000000000000000000000000000000000000000001',
        ),
      );
  });

  afterEach(() => {
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  /** #15 item 10: a bare family reference (the rotation trigger) must never pick it. */
  function expectRetired(status = 'failed') {
    expect(ecs.commandCalls(TagResourceCommand).map((c) => c.args[0].input)).toEqual([
      { resourceArn: tdArn(42), tags: [{ key: 'portal-api:status', value: status }] },
    ]);
    expect(ecs.commandCalls(DeregisterTaskDefinitionCommand).map((c) => c.args[0].input)).toEqual([
      { taskDefinition: tdArn(42) },
    ]);
    expect(output()).toContain(
      `marked portal-api:42 portal-api:status=${status} and deregistered it`,
    );
  }

  it('RunTask answers failures[]', async () => {
    ecs.on(RunTaskCommand).resolves({
      tasks: [],
      failures: [
        { reason: 'RESOURCE:ENI', detail: 'no free IP addresses in subnet-0a1b2c3d4e5f60718' },
      ],
    });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(
      /migration failed: the migration task could not be started: RESOURCE:ENI: no free IP addresses/,
    );
    expect(err.message).toMatch(/still runs portal-api:41/);
    expectRetired();
  });

  it('the task never started', async () => {
    const id = taskId('t1');
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(id) }] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task(id, {
          startedAt: undefined,
          stopCode: 'TaskFailedToStart',
          stoppedReason:
            'CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to ' +
            'resolve ref 123456789012.dkr.ecr.sa-east-1.amazonaws.com/portal-api@sha256:bbbb: not found',
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
    expect(err.message).toMatch(
      new RegExp(`the migration task ${id} never started: CannotPullContainerError`),
    );
    // No log stream is only a note.
    expect(output()).toContain(
      `(no log lines: the log stream /ecs/portal-api ecs/app/${id} does not exist`,
    );
    expectRetired();
  });

  it('the container exits non-zero: its log lines are printed, the revision is retired', async () => {
    const id = taskId('t2');
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(id) }] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task(id, {}, 1)] });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(
      new RegExp(`the migration task ${id} exited with code 1: Essential container in task exited`),
    );
    expect(output()).toContain('| migration failed: boom');
    expect(progress).toMatchObject({ revisionArn: tdArn(42), migrationTaskArn: taskArn(id) });
    expectRetired();
  });

  it('the container has no exit code', async () => {
    const id = taskId('t3');
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(id) }] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task(id, {
          stopCode: 'SpotInterruption',
          stoppedReason: 'Your Spot Task was interrupted.',
          containers: [
            {
              name: 'app',
              lastStatus: 'STOPPED',
              reason: 'OutOfMemoryError: Container killed due to memory usage',
            },
          ],
        }),
      ],
    });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(
      /stopped without an exit code for container "app": Your Spot Task was interrupted.; OutOfMemoryError/,
    );
  });

  it('the task does not stop in time (exit 6) and, running, is left running and not retired', async () => {
    const id = taskId('t4');
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(id) }] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task(id, { lastStatus: 'RUNNING' })] });
    const err = await failure(run({ timeoutSeconds: 60 }));
    expect(err.exitCode).toBe(ExitCode.TIMED_OUT);
    expect(err.message).toMatch(
      /did not stop within 60 s \(last status RUNNING\); it was left running/,
    );
    // Bounded: 60 s of 5 s polls.
    expect(ecs.commandCalls(DescribeTasksCommand).length).toBeLessThanOrEqual(13);
    expect(waiter.slept.reduce((a, b) => a + b, 0)).toBe(60_000);
    expect(ecs.commandCalls(StopTaskCommand)).toHaveLength(0);
    expect(ecs.commandCalls(DeregisterTaskDefinitionCommand)).toHaveLength(0);
  });

  // #15 item 8
  it('a task stuck in PENDING is stopped at the start timeout, long before the deadline', async () => {
    const id = taskId('t5');
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(id) }] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [task(id, { lastStatus: 'PENDING', desiredStatus: 'RUNNING', startedAt: undefined })],
    });
    ecs
      .on(StopTaskCommand)
      .resolves({ task: task(id, { lastStatus: 'PENDING', desiredStatus: 'STOPPED' }) });

    const err = await failure(run({ timeoutSeconds: 900, startTimeoutSeconds: 120 }));

    expect(err.exitCode).toBe(ExitCode.TASK_FAILED);
    expect(err.message).toMatch(
      new RegExp(
        `the migration task ${id} did not start within 120 s \\(last status PENDING\\): it was stopped`,
      ),
    );
    expect(ecs.commandCalls(StopTaskCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: CLUSTER, task: taskArn(id), reason: 'portal-api: not RUNNING within 120 s' },
    ]);
    expect(waiter.slept.reduce((a, b) => a + b, 0)).toBe(120_000);
    expectRetired();
  });

  it('a task that never reached RUNNING by the deadline is stopped too (exit 6)', async () => {
    const id = taskId('t6');
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(id) }] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task(id, { lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', startedAt: undefined }),
      ],
    });
    ecs.on(StopTaskCommand).resolves({});
    const err = await failure(run({ timeoutSeconds: 60, startTimeoutSeconds: 300 }));
    expect(err.exitCode).toBe(ExitCode.TIMED_OUT);
    expect(err.message).toMatch(/\(last status PROVISIONING\); it was stopped/);
    expect(ecs.commandCalls(StopTaskCommand)).toHaveLength(1);
    expectRetired();
  });

  it('on SIGTERM it stops the migration task it started and ends with 143', async () => {
    const id = taskId('t7');
    const controller = new AbortController();
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(id) }] });
    ecs.on(DescribeTasksCommand).callsFake(() => {
      // The job is cancelled while the migration runs.
      controller.abort('SIGTERM');
      return { tasks: [task(id, { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' })] };
    });
    ecs.on(StopTaskCommand).resolves({});
    const err = await failure(run({}, { signal: controller.signal }));
    expect(err.exitCode).toBe(ExitCode.INTERRUPTED_SIGTERM);
    expect(err.message).toMatch(
      /interrupted by SIGTERM while the migration task .* was RUNNING: it was stopped/,
    );
    expect(ecs.commandCalls(StopTaskCommand)[0].args[0].input).toEqual({
      cluster: CLUSTER,
      task: taskArn(id),
      reason: 'portal-api tool interrupted (SIGTERM)',
    });
    expectRetired();
  });
});

describe('deploy: where and as whom the migration task runs', () => {
  beforeEach(() => {
    updateStarts();
  });

  // #15 item 9
  it('on on-demand FARGATE even when the service runs on FARGATE_SPOT', async () => {
    const strategy = [
      { capacityProvider: 'FARGATE_SPOT', weight: 3, base: 0 },
      { capacityProvider: 'FARGATE', weight: 1, base: 1 },
    ];
    happyUntilMigration(service({ launchType: undefined, capacityProviderStrategy: strategy }));
    servicesAfterStart(completed());

    await run();

    const input = ecs.commandCalls(RunTaskCommand)[0].args[0].input;
    expect(input.launchType).toBe('FARGATE');
    expect(input).not.toHaveProperty('capacityProviderStrategy');
  });

  it('--capacity-provider-strategy says otherwise', async () => {
    happyUntilMigration();
    servicesAfterStart(completed());
    const strategy = [{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }];

    await run({ capacityProviderStrategy: strategy });

    const input = ecs.commandCalls(RunTaskCommand)[0].args[0].input;
    expect(input.capacityProviderStrategy).toEqual(strategy);
    expect(input).not.toHaveProperty('launchType');
  });

  // #15 item 7
  it('--task-role-arn and --migration-secret-id: as the migrator, not as the service', async () => {
    happyUntilMigration();
    servicesAfterStart(completed());

    await run({
      taskRoleArn: roleArn('portal-api-migrator'),
      migrationSecretId: 'portal/dev/database-migrator',
    });

    expect(ecs.commandCalls(RunTaskCommand)[0].args[0].input.overrides).toEqual({
      taskRoleArn: roleArn('portal-api-migrator'),
      containerOverrides: [
        {
          name: 'app',
          command: MIGRATION_COMMAND,
          // The migrator database user (DDL), readable by the migrator role only.
          environment: [{ name: 'DATABASE_SECRET_ID', value: 'portal/dev/database-migrator' }],
        },
      ],
    });
    // The service keeps its own role: the new revision is the old one with a new image.
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input.taskRoleArn).toBe(
      roleArn('portal-api-task'),
    );
  });
});

describe('deploy: the migration task log, live', () => {
  it('prints each line as it arrives, while the task runs, and what it wrote last after it stopped', async () => {
    happyUntilMigration();
    updateStarts();
    servicesAfterStart(completed());
    ecs
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [task(MIGRATION_TASK, { lastStatus: 'RUNNING' })] })
      .resolvesOnce({ tasks: [task(MIGRATION_TASK, { lastStatus: 'RUNNING' })] })
      .resolves({ tasks: [task(MIGRATION_TASK, {}, 0)] });
    logs
      .on(GetLogEventsCommand)
      .resolvesOnce(logEvents(['query: SELECT pg_advisory_lock(...)'], 'f/1'))
      .resolvesOnce(logEvents(['applied migration A1795448641999'], 'f/2'))
      .resolvesOnce(logEvents(['applied migration B1795448642000', 'done'], 'f/3'))
      .resolves(logEvents([], 'f/3'));

    await run();

    // Read from the head, then on from each forward token.
    expect(logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input.nextToken)).toEqual([
      undefined,
      'f/1',
      'f/2',
      'f/3',
    ]);
    const at = (text: string) => lines.findIndex((l) => l.includes(text));
    // The first lines were printed before the task stopped.
    expect(at('| query: SELECT pg_advisory_lock')).toBeLessThan(
      at(`task ${MIGRATION_TASK}: STOPPED`),
    );
    expect(at('| applied migration A1795448641999')).toBeLessThan(
      at(`task ${MIGRATION_TASK}: STOPPED`),
    );
    expect(at('| done')).toBeGreaterThan(at(`task ${MIGRATION_TASK}: STOPPED`));
    expect(output()).toContain('--- 4 log lines ---');
  });
});

describe('deploy: the rollout goes wrong', () => {
  beforeEach(() => {
    happyUntilMigration();
    updateStarts();
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
  });

  const failedOurs = (o: Parameters<typeof deployment>[0] = {}) =>
    newDeployment({
      status: 'ACTIVE',
      rolloutState: 'FAILED',
      rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
      failedTasks: 4,
      ...o,
    });

  describe('the circuit breaker rolls back (exit 5), whatever shape ECS gives it (#15 item 1)', () => {
    beforeEach(() => {
      ecs.on(TagResourceCommand).resolves({});
      ecs.on(DeregisterTaskDefinitionCommand).resolves({});
    });
    afterEach(() => {
      // The rolled back revision is retired: no bare family reference picks it.
      expect(ecs.commandCalls(TagResourceCommand)[0].args[0].input.tags).toEqual([
        { key: 'portal-api:status', value: 'rolled-back' },
      ]);
      expect(ecs.commandCalls(DeregisterTaskDefinitionCommand)).toHaveLength(1);
    });

    it('the old deployment id becomes primary again (COMPLETED -> IN_PROGRESS)', async () => {
      servicesAfterStart(
        serviceAfterUpdate(newDeployment({ runningCount: 1 }), oldDeployment()),
        serviceAfterUpdate(
          deployment({ id: DEP.old, status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }),
          failedOurs(),
        ),
      );
      const err = await failure(run());
      expect(err.exitCode).toBe(ExitCode.ROLLED_BACK);
      expect(err.message).toBe(
        'the deployment failed and the circuit breaker rolled the service back to portal-api:41: ' +
          'ECS deployment circuit breaker: tasks failed to start.',
      );
    });

    it('the old deployment id primary again, ours already gone', async () => {
      servicesAfterStart(
        serviceAfterUpdate(newDeployment(), oldDeployment()),
        serviceAfterUpdate(deployment({ id: DEP.old, rolloutState: 'IN_PROGRESS' })),
      );
      const err = await failure(run({ timeoutSeconds: 300 }));
      expect(err.exitCode).toBe(ExitCode.ROLLED_BACK);
      expect(waiter.slept.reduce((a, b) => a + b, 0)).toBeLessThan(300_000);
    });

    it('a new deployment id on the previous revision', async () => {
      servicesAfterStart(
        serviceAfterUpdate(newDeployment(), oldDeployment()),
        serviceAfterUpdate(
          deployment({ id: DEP.rollback, taskDefinition: tdArn(41), rolloutState: 'IN_PROGRESS' }),
          failedOurs(),
        ),
      );
      const err = await failure(run());
      expect(err.exitCode).toBe(ExitCode.ROLLED_BACK);
    });

    it('the rollback already happened before our deployment was ever seen', async () => {
      servicesAfterStart(serviceAfterUpdate(deployment({ id: DEP.rollback })));
      const err = await failure(run());
      expect(err.exitCode).toBe(ExitCode.ROLLED_BACK);
    });
  });

  it('waits while DescribeServices still shows the service as before the update', async () => {
    servicesAfterStart(service(), completed());
    await expect(run()).resolves.toMatchObject({ revisionArn: tdArn(42), outcome: 'deployed' });
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(4);
  });

  it('another deployment replaces this one (exit 4)', async () => {
    servicesAfterStart(
      serviceAfterUpdate(
        deployment({ id: DEP.other, taskDefinition: tdArn(43), rolloutState: 'IN_PROGRESS' }),
        newDeployment({ status: 'ACTIVE' }),
      ),
    );
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.DEPLOY_FAILED);
    expect(err.message).toMatch(/another deployment \(portal-api:43\) replaced this one/);
  });

  it('the deployment fails and the breaker is not set to roll back (exit 4)', async () => {
    const noRollback = (s: Service): Service => ({
      ...s,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } },
    });
    servicesAfterStart(
      noRollback(
        serviceAfterUpdate(
          newDeployment({
            rolloutState: 'FAILED',
            rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
          }),
          oldDeployment(),
        ),
      ),
    );
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.DEPLOY_FAILED);
    expect(err.message).toMatch(
      /the deployment failed: ECS deployment circuit breaker: tasks failed to start/,
    );
  });

  it('the service disappears (exit 4)', async () => {
    servicesAfterStart({ ...service(), status: 'INACTIVE' });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.DEPLOY_FAILED);
  });

  it('the deployment does not complete in time (exit 6), within one deadline for all waits', async () => {
    servicesAfterStart(serviceAfterUpdate(newDeployment({ runningCount: 1 }), oldDeployment()));
    const err = await failure(run({ timeoutSeconds: 120 }));
    expect(err.exitCode).toBe(ExitCode.TIMED_OUT);
    expect(err.message).toMatch(
      /did not complete within 120 s \(IN_PROGRESS: running 1\/2, pending 0, failed 0\)/,
    );
    expect(waiter.slept.reduce((a, b) => a + b, 0)).toBe(120_000);
  });

  it('says why the new tasks died: stopped reasons, exit codes and log tails', async () => {
    ecs.on(TagResourceCommand).resolves({});
    ecs.on(DeregisterTaskDefinitionCommand).resolves({});
    const [a, b] = [taskId('dead1'), taskId('dead2')];
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn(a), taskArn(b)] });
    ecs.on(DescribeTasksCommand, { tasks: [taskArn(a), taskArn(b)] }).resolves({
      tasks: [
        task(a, {
          startedBy: DEP.ours,
          group: 'service:portal-api',
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          stoppedAt: new Date('2030-01-01T00:03:00Z'),
          containers: [{ name: 'app', lastStatus: 'STOPPED', exitCode: 1 }],
        }),
        task(b, {
          startedBy: DEP.ours,
          group: 'service:portal-api',
          stopCode: 'ServiceSchedulerInitiated',
          stoppedReason:
            'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:sa-east-1:123456789012:targetgroup/portal-api/0123456789abcdef)',
          stoppedAt: new Date('2030-01-01T00:04:00Z'),
          containers: [
            {
              name: 'app',
              lastStatus: 'STOPPED',
              exitCode: 137,
              reason: 'OutOfMemoryError: Container killed due to memory usage',
            },
          ],
        }),
      ],
    });
    logs
      .on(GetLogEventsCommand, { logStreamName: `ecs/app/${a}` })
      .resolves(logEvents(['Error: DATABASE_URL is not a valid URL'], 'f/a'));
    logs
      .on(GetLogEventsCommand, { logStreamName: `ecs/app/${b}` })
      .resolves(logEvents(['listening on 3000'], 'f/b'));
    servicesAfterStart(
      serviceAfterUpdate(newDeployment(), oldDeployment()),
      serviceAfterUpdate(deployment({ id: DEP.old, rolloutState: 'IN_PROGRESS' }), failedOurs()),
    );

    const err = await failure(run());

    expect(err.exitCode).toBe(ExitCode.ROLLED_BACK);
    expect(ecs.commandCalls(ListTasksCommand)[0].args[0].input).toEqual({
      cluster: CLUSTER,
      startedBy: DEP.ours,
      desiredStatus: 'STOPPED',
    });
    const text = output();
    expect(text).toContain(`why the new tasks died: 2 stopped task(s) of deployment ${DEP.ours}`);
    // Newest first.
    expect(text.indexOf(`stopped task ${b}`)).toBeLessThan(text.indexOf(`stopped task ${a}`));
    expect(text).toContain(
      `stopped task ${a} (portal-api:42): EssentialContainerExited: Essential container in task exited`,
    );
    expect(text).toContain('container app: exit code 1');
    expect(text).toContain(
      'container app: exit code 137 (OutOfMemoryError: Container killed due to memory usage)',
    );
    expect(text).toContain('ServiceSchedulerInitiated: Task failed ELB health checks');
    expect(text).toContain('| Error: DATABASE_URL is not a valid URL');
    expect(text).toContain('| listening on 3000');
    expect(
      logs.commandCalls(GetLogEventsCommand, { logStreamName: `ecs/app/${a}` })[0].args[0].input,
    ).toMatchObject({
      limit: 20,
      startFromHead: false,
    });
  });

  it('--max-failed-tasks: after N stopped tasks it puts the previous revision back itself (exit 5)', async () => {
    ecs.on(TagResourceCommand).resolves({});
    ecs.on(DeregisterTaskDefinitionCommand).resolves({});
    const dead = [taskId('d1'), taskId('d2'), taskId('d3')];
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: [taskArn(dead[0])] })
      .resolves({ taskArns: dead.map(taskArn) });
    ecs.on(DescribeTasksCommand, { tasks: dead.map(taskArn) }).resolves({
      tasks: dead.map((id) => task(id, { startedBy: DEP.ours, group: 'service:portal-api' }, 1)),
    });
    ecs.on(UpdateServiceCommand, { taskDefinition: tdArn(41) }).resolves({
      service: serviceAfterUpdate(
        deployment({ id: DEP.rollback, taskDefinition: tdArn(41), rolloutState: 'IN_PROGRESS' }),
        newDeployment({ status: 'ACTIVE' }),
      ),
    });
    // The circuit breaker would take many more failures: the deployment just keeps retrying.
    servicesAfterStart(serviceAfterUpdate(newDeployment({ failedTasks: 1 }), oldDeployment()));

    const err = await failure(run({ maxFailedTasks: 3 }));

    expect(err.exitCode).toBe(ExitCode.ROLLED_BACK);
    expect(err.message).toBe(
      '3 task(s) of the new deployment stopped (--max-failed-tasks 3): the service was put back ' +
        `on portal-api:41 (deployment ${DEP.rollback}, which ECS carries on with)`,
    );
    expect(
      ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.taskDefinition),
    ).toEqual([tdArn(42), tdArn(41)]);
    expect(output()).toContain(
      `why the new tasks died: 3 stopped task(s) of deployment ${DEP.ours}`,
    );
    expect(progress).toMatchObject({ deploymentId: DEP.ours, revisionArn: tdArn(42) });
  });
});

describe('deploy: a throttle, a 5xx or a network blip does not end a wait (#15 item 2)', () => {
  beforeEach(() => {
    happyUntilMigration();
    updateStarts();
  });

  it('DescribeTasks and DescribeServices are retried until they answer', async () => {
    ecs
      .on(DescribeTasksCommand)
      .rejectsOnce(awsErrors.throttling())
      .rejectsOnce(awsErrors.network())
      .resolves({ tasks: [task(MIGRATION_TASK, {}, 0)] });
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolvesOnce({ services: [service()] })
      .rejectsOnce(awsErrors.server())
      .rejectsOnce(awsErrors.throttling())
      .resolves({ services: [completed()] });

    await expect(run()).resolves.toMatchObject({ outcome: 'deployed' });

    const text = output();
    expect(text).toContain(
      'DescribeTasks failed (ThrottlingException: Rate exceeded); retrying in 5 s',
    );
    expect(text).toContain('DescribeTasks failed (Error: socket hang up); retrying in 10 s');
    expect(text).toContain(
      'DescribeServices failed (ServerException: Service Unavailable. Please try again later.); retrying in 5 s',
    );
  });

  it('until the deadline, then TIMED_OUT (exit 6)', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolvesOnce({ services: [service()] })
      .rejects(awsErrors.throttling());
    const err = await failure(run({ timeoutSeconds: 300 }));
    expect(err.exitCode).toBe(ExitCode.TIMED_OUT);
    expect(err.message).toMatch(
      /DescribeServices kept failing until the 300 s deadline \(ThrottlingException/,
    );
    expect(waiter.slept.reduce((a, b) => a + b, 0)).toBe(300_000);
  });

  it('a permission error is not retried', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolvesOnce({ services: [service()] })
      .rejects(awsErrors.accessDenied());
    await expect(run()).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(3);
  });
});

describe('deploy: a deployment already in progress (#15 item 4)', () => {
  const busy = () =>
    service({
      deployments: [
        deployment({
          id: DEP.other,
          taskDefinition: tdArn(41),
          rolloutState: 'IN_PROGRESS',
          runningCount: 1,
        }),
        deployment({ id: DEP.old, status: 'ACTIVE', taskDefinition: tdArn(40) }),
      ],
    });

  it('is refused (exit 8) before anything is registered', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [busy()] });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.BUSY);
    expect(err.message).toBe(
      `the service has a deployment in progress: ${DEP.other} to portal-api:41 (IN_PROGRESS, ` +
        'running 1/2). Wait for it to end, or pass --force to replace it',
    );
    expect(commandNames()).toEqual(['DescribeServicesCommand']);
  });

  it('also when it started while the migrations ran: the service is not updated', async () => {
    happyUntilMigration();
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolves({ services: [busy()] });
    const err = await failure(run());
    expect(err.exitCode).toBe(ExitCode.BUSY);
    expect(err.message).toMatch(
      /^while the migrations ran, the service has a deployment in progress/,
    );
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('--force deploys anyway, and says so', async () => {
    happyUntilMigration(busy());
    updateStarts();
    servicesAfterStart(completed());
    await expect(run({ force: true })).resolves.toMatchObject({ outcome: 'deployed' });
    expect(output()).toContain(`note: the service has a deployment in progress: ${DEP.other}`);
    expect(output()).toContain('--force: deploying anyway');
  });
});

describe('deploy: commits land in order (#15 item 3)', () => {
  let repo: string;
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
    }).trim();
  const commit = (message: string) => {
    git('commit', '--allow-empty', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'deploy-order-'));
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'ci@example.com');
    git('config', 'user.name', 'ci');
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  function runningCommit(sha: string) {
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    taskDefinitions({
      tags: [
        { key: 'portal-api:managed-by', value: 'deploy-tool' },
        { key: 'portal-api:git-sha', value: sha },
      ],
    });
  }

  it('refuses (exit 7) a commit that is not a descendant of the running one', async () => {
    const older = commit('older');
    const newer = commit('newer');
    runningCommit(newer);
    const err = await failure(run({ gitSha: older }, { git: localGit(repo) }));
    expect(err.exitCode).toBe(ExitCode.OUT_OF_ORDER);
    expect(err.message).toBe(
      `commit ${older} is not a descendant of the running commit ${newer} (portal-api:41): a newer ` +
        'deploy has landed already. Pass --allow-older to deploy it anyway',
    );
    expect(commandNames()).not.toContain('RegisterTaskDefinitionCommand');
  });

  it('deploys a descendant, and a rerun of the same commit', async () => {
    const base = commit('base');
    const next = commit('next');
    runningCommit(base);
    await expect(
      run({ gitSha: next, dryRun: true }, { git: localGit(repo) }),
    ).resolves.toMatchObject({ outcome: 'planned' });
    await expect(
      run({ gitSha: base, dryRun: true }, { git: localGit(repo) }),
    ).resolves.toMatchObject({ outcome: 'planned' });
  });

  it('--allow-older deploys it anyway, stamped with its own commit', async () => {
    const older = commit('older again');
    const newer = commit('newer again');
    runningCommit(newer);
    await run({ gitSha: older, allowOlder: true, dryRun: true }, { git: localGit(repo) });
    expect(output()).toContain(
      `--allow-older: no commit order check (portal-api:41 runs commit ${newer})`,
    );
    expect(output()).toContain(`~ tags[portal-api:git-sha].value: "${newer}" -> "${older}"`);
  });

  it('a commit the working copy does not have (a shallow clone) is a usage error that says why', async () => {
    const head = commit('head');
    runningCommit('f'.repeat(40));
    const err = await failure(run({ gitSha: head }, { git: localGit(repo) }));
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toMatch(
      /cannot tell whether .* descends from the running commit f{40}: .*fetch-depth: 0/,
    );
  });

  it('--git-sha is required once the running revision carries one', async () => {
    runningCommit(OLD_SHA);
    const err = await failure(run({ gitSha: undefined }));
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toMatch(
      /--git-sha is required: the running portal-api:41 was deployed from commit 1{40}/,
    );
  });

  it('a revision without the tag (deployed by hand, or by the CDK app) skips the check with a note', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    taskDefinitions({ tags: [] });
    await run(
      { dryRun: true },
      { git: { ancestry: () => Promise.reject(new Error('not asked')) } },
    );
    expect(output()).toContain(
      'note: portal-api:41 carries no portal-api:git-sha tag: no commit order check this time',
    );
  });
});

describe('deploy: task definition fields and tags (#15 item 10)', () => {
  it('warns about fields the SDK does not know: the new revision would not have them', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    // As AWS would answer once it adds fields newer than the installed SDK.
    const td = taskDefinition(41) as TaskDefinition & Record<string, unknown>;
    td.futureSetting = { enabled: true };
    (td.containerDefinitions![0] as Record<string, unknown>).restartAfterHours = 6;
    taskDefinitions({ td });

    await run({ dryRun: true });

    const text = output();
    expect(text).toContain(
      '! containerDefinitions[app].restartAfterHours: dropped (the installed @aws-sdk/client-ecs does not know this field',
    );
    expect(text).toContain('! futureSetting: dropped');
    expect(text).toContain('warning: 2 field(s) of portal-api:41 would be lost');
  });

  it('drops aws: tags (CloudFormation puts them on what CDK registers; ECS refuses them)', async () => {
    happyUntilMigration();
    updateStarts();
    servicesAfterStart(completed());
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: taskDefinition(41),
      tags: [
        { key: 'aws:cloudformation:stack-name', value: 'PortalApiDev' },
        { key: 'aws:cloudformation:logical-id', value: 'TaskDef54694570' },
        { key: 'AWS:Something', value: 'x' },
        { key: 'portal-api:managed-by', value: 'cdk' },
        { key: 'portal-api:status', value: 'failed' },
        { key: 'team', value: 'portal' },
      ],
    });

    await run();

    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input.tags).toEqual([
      { key: 'team', value: 'portal' },
      { key: 'portal-api:managed-by', value: 'deploy-tool' },
      { key: 'portal-api:git-sha', value: NEW_SHA },
    ]);
    expect(output()).toContain('- tags[aws:cloudformation:stack-name].key');
  });

  describe('drift: the family latest revision is not the service one', () => {
    const cdkTags = [
      { key: 'aws:cloudformation:stack-name', value: 'PortalApiDev' },
      { key: 'portal-api:managed-by', value: 'cdk' },
    ];
    const latest = () => {
      const td = taskDefinition(43);
      td.cpu = '1024';
      td.containerDefinitions![0].environment!.push({ name: 'LOG_LEVEL', value: 'debug' });
      return td;
    };

    beforeEach(() => {
      ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
      taskDefinitions({ tags: cdkTags }, { td: latest(), tags: cdkTags });
    });

    it('prints the diff and refuses (exit 9)', async () => {
      const err = await failure(run());
      expect(err.exitCode).toBe(ExitCode.DRIFT);
      expect(err.message).toMatch(
        /latest revision portal-api:43 differs from the service's portal-api:41/,
      );
      expect(err.message).toMatch(/--from-latest .* --from-service/);
      const text = output();
      expect(text).toContain(
        "the family's latest revision portal-api:43 (registered by the CDK app (tools/infra)) is not the one the service runs (portal-api:41)",
      );
      expect(text).toContain('  ~ cpu: "512" -> "1024"');
      expect(text).toContain('  + containerDefinitions[app].environment[LOG_LEVEL].value: "debug"');
      expect(commandNames()).not.toContain('RegisterTaskDefinitionCommand');
    });

    it('--from-latest copies the latest revision', async () => {
      await run({ from: 'latest', dryRun: true });
      expect(output()).toContain('--from-latest: copying portal-api:43');
      expect(output()).toContain('1. register  portal-api:<next revision> from portal-api:43');
      expect(output()).toContain('~ cpu: "512" -> "1024"');
    });

    it('--from-service copies the running one', async () => {
      await run({ from: 'service', dryRun: true });
      expect(output()).toContain('--from-service: copying portal-api:41');
      expect(output()).toContain('1. register  portal-api:<next revision> from portal-api:41');
      const changes = output().slice(output().indexOf('task definition changes'));
      expect(changes).not.toContain('cpu');
    });
  });

  it('a latest revision an earlier deploy left behind is not drift: the service one is copied', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    taskDefinitions(
      {},
      {
        td: taskDefinition(43, `${OLD_IMAGE}-timed-out`),
        tags: [
          { key: 'portal-api:managed-by', value: 'deploy-tool' },
          { key: 'portal-api:git-sha', value: '3'.repeat(40) },
        ],
      },
    );
    await run({ dryRun: true });
    expect(output()).toContain(
      `note: the family's latest revision portal-api:43 was registered by an earlier deploy of commit ${'3'.repeat(40)}`,
    );
  });

  it('a family without an ACTIVE revision (the service one deregistered) is no drift', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs
      .on(DescribeTaskDefinitionCommand, { taskDefinition: tdArn(41) })
      .resolves({ taskDefinition: { ...taskDefinition(41), status: 'INACTIVE' }, tags: [] });
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: 'portal-api' }).rejects(
      new ClientException({
        message: 'Unable to describe task definition.',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(run({ dryRun: true })).resolves.toMatchObject({ outcome: 'planned' });
    expect(output()).toContain(
      "note: the family portal-api has no ACTIVE revision: copying the service's",
    );
  });

  it('keeps working on a service the CDK app created', async () => {
    happyUntilMigration();
    updateStarts();
    servicesAfterStart(completed());
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: taskDefinition(41),
      tags: [
        { key: 'aws:cloudformation:stack-name', value: 'PortalApiDev' },
        { key: 'portal-api:managed-by', value: 'cdk' },
      ],
    });
    await expect(run()).resolves.toMatchObject({ outcome: 'deployed' });
    expect(output()).toContain('note: portal-api:41 carries no portal-api:git-sha tag');
  });
});

describe('deploy --smoke-url: /ping after the deployment completed', () => {
  let server: Server;
  let base: string;
  let answers: number[];
  let paths: string[];

  beforeAll(async () => {
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      const status = answers.length > 1 ? answers.shift()! : answers[0];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{"status":"ok"}' : '{"status":"unavailable"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    paths = [];
    happyUntilMigration();
    updateStarts();
    servicesAfterStart(completed());
  });

  it('passes once /ping answers 200', async () => {
    answers = [503, 502, 200];
    await expect(run({ smokeUrl: base })).resolves.toMatchObject({ outcome: 'deployed' });
    expect(paths).toEqual(['/api/ping', '/api/ping', '/api/ping']);
    expect(output()).toContain(`smoke check: GET ${base}/ping answered 200 (attempt 3)`);
    expect(output()).toContain(`smoke check: GET ${base}/ping: HTTP 503`);
  });

  it('a /ping that never answers 200 is a failed deployment (exit 4)', async () => {
    answers = [503];
    const err = await failure(run({ smokeUrl: base, smokeTimeoutSeconds: 30 }));
    expect(err.exitCode).toBe(ExitCode.DEPLOY_FAILED);
    expect(err.message).toMatch(
      /the smoke check failed: GET .*\/api\/ping did not answer 200 within 30 s \(last: HTTP 503, 7 attempts\)/,
    );
    expect(progress.outcome).toBe('smoke-failed');
  });

  it('nothing listening is a failed deployment too', async () => {
    const port = await freePort();
    const err = await failure(
      run({ smokeUrl: `http://127.0.0.1:${port}/`, smokeTimeoutSeconds: 10 }),
    );
    expect(err.exitCode).toBe(ExitCode.DEPLOY_FAILED);
    expect(err.message).toMatch(/last: TypeError: fetch failed \(ECONNREFUSED\)/);
  });
});
