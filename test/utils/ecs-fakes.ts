import type { GetLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import {
  AccessDeniedException,
  Deployment,
  ECSServiceException,
  ServerException,
  Service,
  Task,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { Waiter } from '../../tools/ecs/common';

/**
 * Fixtures for the ECS tool specs (tools/**\/*.spec.ts): ECS and CloudWatch Logs answers with the
 * field names and shapes of the AWS API reference (DescribeServices, DescribeTaskDefinition,
 * RunTask, DescribeTasks, ListTasks, GetLogEvents): ids as ECS makes them (deployment
 * "ecs-svc/" + 19 digits, 32-hex task ids), timestamps, the texts ECS writes in events,
 * rolloutStateReason and stoppedReason.
 */
export const REGION = 'sa-east-1';
export const ACCOUNT = '123456789012';
export const CLUSTER = 'portal-dev';
export const SERVICE = 'portal-api';
export const OLD_IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/portal-api:aaa111`;
export const NEW_IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/portal-api@sha256:${'b'.repeat(64)}`;
export const OLD_SHA = '1'.repeat(40);
export const NEW_SHA = '2'.repeat(40);

/** Deployment ids: the one before the update, ours, a rollback, someone else's. */
export const DEP = {
  old: 'ecs-svc/4203985471283640421',
  ours: 'ecs-svc/8716253480122930764',
  rollback: 'ecs-svc/1938475610293847561',
  other: 'ecs-svc/5550001112223334445',
} as const;

export const tdArn = (rev: number, family = 'portal-api') =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${rev}`;
export const taskArn = (id: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER}/${id}`;
export const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

const NETWORK = {
  awsvpcConfiguration: {
    subnets: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
    securityGroups: ['sg-0123456789abcdef0'],
    assignPublicIp: 'DISABLED' as const,
  },
};

/** A task definition as DescribeTaskDefinition answers it, read-only fields included. */
export function taskDefinition(rev: number, image = OLD_IMAGE): TaskDefinition {
  return {
    taskDefinitionArn: tdArn(rev),
    family: 'portal-api',
    revision: rev,
    status: 'ACTIVE',
    taskRoleArn: roleArn('portal-api-task'),
    executionRoleArn: roleArn('portal-api-execution'),
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    compatibilities: ['EC2', 'FARGATE'],
    requiresAttributes: [
      { name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' },
      { name: 'ecs.capability.execution-role-awslogs' },
      { name: 'com.amazonaws.ecs.capability.docker-remote-api.1.19' },
      { name: 'ecs.capability.task-eni' },
    ],
    placementConstraints: [],
    cpu: '512',
    memory: '1024',
    runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
    registeredAt: new Date('2030-01-01T00:00:00Z'),
    registeredBy: `arn:aws:sts::${ACCOUNT}:assumed-role/portal-api-deploy/GitHubActions`,
    volumes: [],
    containerDefinitions: [
      {
        name: 'app',
        image,
        cpu: 0,
        essential: true,
        portMappings: [{ containerPort: 3000, hostPort: 3000, protocol: 'tcp' }],
        environment: [
          { name: 'NODE_ENV', value: 'production' },
          { name: 'DATABASE_SECRET_ID', value: 'portal/dev/database' },
        ],
        mountPoints: [],
        volumesFrom: [],
        stopTimeout: 30,
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': '/ecs/portal-api',
            'awslogs-region': REGION,
            'awslogs-stream-prefix': 'ecs',
          },
          secretOptions: [],
        },
        systemControls: [],
      },
    ],
  };
}

export function deployment(overrides: Partial<Deployment>): Deployment {
  const id = overrides.id ?? DEP.old;
  const state = 'rolloutState' in overrides ? overrides.rolloutState : 'COMPLETED';
  return {
    id,
    status: 'PRIMARY',
    taskDefinition: tdArn(41),
    desiredCount: 2,
    pendingCount: 0,
    runningCount: 2,
    failedTasks: 0,
    createdAt: new Date('2030-01-01T00:00:00Z'),
    updatedAt: new Date('2030-01-01T00:05:00Z'),
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    platformFamily: 'Linux',
    networkConfiguration: NETWORK,
    rolloutState: state,
    rolloutStateReason:
      state === 'COMPLETED'
        ? `ECS deployment ${id} completed.`
        : state === 'IN_PROGRESS'
          ? `ECS deployment ${id} in progress.`
          : undefined,
    ...overrides,
  };
}

export function service(overrides: Partial<Service> = {}): Service {
  return {
    serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`,
    serviceName: SERVICE,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`,
    status: 'ACTIVE',
    taskDefinition: tdArn(41),
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 0,
    launchType: 'FARGATE',
    platformVersion: 'LATEST',
    platformFamily: 'Linux',
    networkConfiguration: NETWORK,
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: 'ECS' },
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    deployments: [deployment({})],
    events: [
      {
        id: '6a9a3d1e-0c2b-4f3e-9d6a-1b2c3d4e5f60',
        createdAt: new Date('2030-01-01T00:05:00Z'),
        message: '(service portal-api) has reached a steady state.',
      },
    ],
    createdAt: new Date('2029-12-01T00:00:00Z'),
    createdBy: roleArn('portal-api-deploy'),
    enableECSManagedTags: false,
    propagateTags: 'NONE',
    enableExecuteCommand: false,
    ...overrides,
  };
}

/** A service event as ECS writes it (DescribeServices lists the newest first). */
export function event(id: string, message: string) {
  return {
    id,
    createdAt: new Date('2030-01-01T00:10:00Z'),
    message: `(service portal-api) ${message}`,
  };
}

/** A 32-hex ECS task id with a readable tag in it. */
export const taskId = (tag: string) =>
  `${tag}${'0123456789abcdef0123456789abcdef'.slice(tag.length)}`;

export function task(id: string, overrides: Partial<Task> = {}, exitCode?: number): Task {
  const arn = taskArn(id);
  return {
    taskArn: arn,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`,
    taskDefinitionArn: tdArn(42),
    group: 'family:portal-api',
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    cpu: '512',
    memory: '1024',
    createdAt: new Date('2030-01-01T00:00:30Z'),
    pullStartedAt: new Date('2030-01-01T00:00:40Z'),
    pullStoppedAt: new Date('2030-01-01T00:00:50Z'),
    startedAt: new Date('2030-01-01T00:01:00Z'),
    stoppingAt: new Date('2030-01-01T00:02:00Z'),
    stoppedAt: new Date('2030-01-01T00:02:10Z'),
    startedBy: 'portal-api-deploy',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers: [
      {
        containerArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container/${CLUSTER}/${id}/2f1e0d9c-8b7a-4c5d-9e6f-0a1b2c3d4e5f`,
        taskArn: arn,
        name: 'app',
        image: NEW_IMAGE,
        lastStatus: 'STOPPED',
        exitCode,
      },
    ],
    ...overrides,
  };
}

/** GetLogEvents' answer: events, and the forward token (unchanged at the end of the stream). */
export function logEvents(
  messages: string[],
  forwardToken: string,
): Pick<GetLogEventsCommandOutput, 'events' | 'nextForwardToken' | 'nextBackwardToken'> {
  return {
    events: messages.map((message, i) => ({
      timestamp: 1_893_456_000_000 + i,
      message,
      ingestionTime: 1_893_456_000_500 + i,
    })),
    nextForwardToken: forwardToken,
    nextBackwardToken: 'b/38012345678901234567890123456789012345678901234567890',
  };
}

/** The errors the SDK throws once its own retries are spent. */
export const awsErrors = {
  throttling: () =>
    new ECSServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      message: 'Rate exceeded',
      $metadata: {
        httpStatusCode: 400,
        requestId: 'b7d2c5e1-0000-4000-8000-000000000001',
        attempts: 5,
      },
    }),
  server: () =>
    new ServerException({
      message: 'Service Unavailable. Please try again later.',
      $metadata: {
        httpStatusCode: 500,
        requestId: 'b7d2c5e1-0000-4000-8000-000000000002',
        attempts: 5,
      },
    }),
  network: () =>
    Object.assign(new Error('socket hang up'), {
      code: 'ECONNRESET',
      $metadata: { attempts: 5 },
    }),
  accessDenied: () =>
    new AccessDeniedException({
      message:
        'User: arn:aws:sts::123456789012:assumed-role/portal-api-deploy/GitHubActions is not ' +
        'authorized to perform: ecs:DescribeServices on resource: ' +
        `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`,
      $metadata: { httpStatusCode: 400, requestId: 'b7d2c5e1-0000-4000-8000-000000000003' },
    }),
};

/** A clock whose sleep returns at once and moves time forward. */
export function fakeWaiter(start = 1_000_000): Waiter & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms: number) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}
