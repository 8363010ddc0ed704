import { ECSClient, Service, TaskDefinition } from '@aws-sdk/client-ecs';
import {
  NEW_IMAGE,
  NEW_SHA,
  REGION,
  taskArn,
  taskDefinition,
  tdArn,
} from '../../test/utils/ecs-fakes';
import { FakeAws, startFakeAws } from '../../test/utils/fake-aws-server';
import { ExitCode } from './common';
import { logStreamOf } from './logs';
import { placementOf } from './run-task';
import {
  copyableTags,
  describeTaskDefinition,
  diffTaskDefinitions,
  fieldsTheSdkDrops,
  pickContainer,
  registerInputOf,
  withImage,
} from './task-definition';

describe('task definition helpers', () => {
  it('diffs by container and variable name, not by position', () => {
    const before = taskDefinition(1);
    const after = taskDefinition(1, NEW_IMAGE);
    after.containerDefinitions![0].environment = [
      { name: 'LOG_LEVEL', value: 'debug' },
      ...(before.containerDefinitions![0].environment ?? []).filter((e) => e.name !== 'NODE_ENV'),
    ];
    after.cpu = '1024';
    expect(diffTaskDefinitions(registerInputOf(before), registerInputOf(after))).toEqual([
      '+ containerDefinitions[app].environment[LOG_LEVEL].name: "LOG_LEVEL"',
      '+ containerDefinitions[app].environment[LOG_LEVEL].value: "debug"',
      '- containerDefinitions[app].environment[NODE_ENV].name: "NODE_ENV"',
      '- containerDefinitions[app].environment[NODE_ENV].value: "production"',
      `~ containerDefinitions[app].image: "${before.containerDefinitions![0].image}" -> "${NEW_IMAGE}"`,
      '~ cpu: "512" -> "1024"',
    ]);
  });

  it('changes only the image of the chosen container, and stamps the revision', () => {
    const td = taskDefinition(1);
    td.containerDefinitions!.push({ name: 'sidecar', image: 'envoy:1' });
    const input = withImage(td, 'app', NEW_IMAGE, [{ key: 'team', value: 'portal' }], NEW_SHA);
    expect(input.containerDefinitions!.map((c) => c.image)).toEqual([NEW_IMAGE, 'envoy:1']);
    expect(td.containerDefinitions![0].image).not.toBe(NEW_IMAGE); // the input is not mutated
    expect(input.tags).toEqual([
      { key: 'team', value: 'portal' },
      { key: 'portal-api:managed-by', value: 'deploy-tool' },
      { key: 'portal-api:git-sha', value: NEW_SHA },
    ]);
    expect(
      diffTaskDefinitions(registerInputOf(td), { ...input, tags: undefined }).filter(
        (l) => !l.includes('.image'),
      ),
    ).toEqual([]);
    expect(pickContainer(td).name).toBe('app');
    expect(pickContainer(td, 'sidecar').name).toBe('sidecar');
    expect(() => pickContainer(td, 'nope')).toThrow(
      expect.objectContaining({ exitCode: ExitCode.USAGE }),
    );
  });

  it('never copies aws: tags (any case) nor the tools own stamps', () => {
    expect(
      copyableTags([
        { key: 'aws:cloudformation:stack-id', value: 'x' },
        { key: 'AWS:other', value: 'x' },
        { key: 'portal-api:git-sha', value: 'x' },
        { key: 'portal-api:status', value: 'failed' },
        { key: 'portal-api:managed-by', value: 'cdk' },
        { key: 'cost-center', value: 'portal' },
      ]),
    ).toEqual([{ key: 'cost-center', value: 'portal' }]);
  });

  it('names the fields the installed SDK cannot register (and only those)', () => {
    const td = taskDefinition(1) as TaskDefinition & Record<string, unknown>;
    expect(fieldsTheSdkDrops(td)).toEqual([]);
    td.futureSetting = 'x';
    (td.containerDefinitions![0] as Record<string, unknown>).restartAfterHours = 6;
    (td.containerDefinitions![0].logConfiguration as unknown as Record<string, unknown>).mode =
      'non-blocking';
    // Map keys (log driver options, docker labels) are data, not fields.
    td.containerDefinitions![0].logConfiguration!.options!['awslogs-create-group'] = 'true';
    expect(fieldsTheSdkDrops(td)).toEqual([
      'containerDefinitions[app].logConfiguration.mode',
      'containerDefinitions[app].restartAfterHours',
      'futureSetting',
    ]);
  });

  it('finds the awslogs stream of a task, or says why not', () => {
    const td = taskDefinition(1);
    expect(logStreamOf(td, 'app', taskArn('abc123'))).toEqual({
      group: '/ecs/portal-api',
      region: 'sa-east-1',
      stream: 'ecs/app/abc123',
    });
    td.containerDefinitions![0].logConfiguration = { logDriver: 'awsfirelens' };
    expect(logStreamOf(td, 'app', taskArn('abc123'))).toEqual({
      missing: 'container "app" does not log with the awslogs driver',
    });
  });

  it('places a one-off task on the service network, on on-demand capacity', () => {
    expect(placementOf({ launchType: 'FARGATE', platformVersion: '1.4.0' })).toEqual({
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      networkConfiguration: undefined,
    });
    const spot: Service = {
      capacityProviderStrategy: [
        { capacityProvider: 'FARGATE_SPOT', weight: 4 },
        { capacityProvider: 'FARGATE', weight: 1, base: 1 },
      ],
    };
    expect(placementOf(spot)).toEqual({ launchType: 'FARGATE', networkConfiguration: undefined });
    expect(
      placementOf({
        capacityProviderStrategy: [
          { capacityProvider: 'FARGATE_SPOT', weight: 4 },
          { capacityProvider: 'portal-ec2-asg', weight: 1 },
        ],
      }),
    ).toEqual({
      capacityProviderStrategy: [{ capacityProvider: 'portal-ec2-asg', weight: 1 }],
      networkConfiguration: undefined,
    });
    expect(placementOf(spot, [{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }])).toEqual({
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }],
      networkConfiguration: undefined,
    });
  });
});

describe('describeTaskDefinition against an ECS endpoint on loopback (the real SDK)', () => {
  let aws: FakeAws;
  /** As ECS answers once it has fields newer than the installed SDK. */
  const answer = () => {
    const td = taskDefinition(41) as TaskDefinition & Record<string, unknown>;
    td.futureSetting = { enabled: true };
    (td.containerDefinitions![0] as Record<string, unknown>).restartAfterHours = 6;
    return {
      taskDefinition: td,
      tags: [{ key: 'aws:cloudformation:stack-name', value: 'PortalApiDev' }],
    };
  };

  beforeAll(async () => {
    aws = await startFakeAws({ DescribeTaskDefinition: () => answer() });
  });
  afterAll(() => aws.close());

  it('sees the fields the SDK drops from the answer, which a copy would lose', async () => {
    const ecs = new ECSClient({
      region: REGION,
      endpoint: aws.endpoint,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' },
      maxAttempts: 1,
    });

    const described = await describeTaskDefinition(ecs, tdArn(41));

    expect(aws.calls).toEqual([
      {
        operation: 'DescribeTaskDefinition',
        input: { taskDefinition: tdArn(41), include: ['TAGS'] },
      },
    ]);
    // The SDK's model does not have them: its deserializer dropped them ...
    expect(described.taskDefinition).not.toHaveProperty('futureSetting');
    expect(described.taskDefinition.containerDefinitions![0]).not.toHaveProperty(
      'restartAfterHours',
    );
    // ... and everything it knows came through, dates included.
    expect(described.taskDefinition.registeredAt).toEqual(new Date('2030-01-01T00:00:00Z'));
    expect(described.tags).toEqual([
      { key: 'aws:cloudformation:stack-name', value: 'PortalApiDev' },
    ]);
    expect(described.dropped).toEqual([
      'containerDefinitions[app].restartAfterHours',
      'futureSetting',
    ]);
  });
});
