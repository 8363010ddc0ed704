import type { Deployment, Service, Task, TaskDefinition } from '@aws-sdk/client-ecs';
import type { Waiter } from '../../tools/ecs/common';

/** Fixtures for the ECS tool specs (tools/**\/*.spec.ts): plain objects as ECS answers them. */
export const REGION = 'sa-east-1';
export const ACCOUNT = '123456789012';
export const CLUSTER = 'portal-dev';
export const SERVICE = 'portal-api';
export const OLD_IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/portal-api:aaa111`;
export const NEW_IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/portal-api@sha256:${'b'.repeat(64)}`;

export const tdArn = (rev: number) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/portal-api:${rev}`;
export const taskArn = (id: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER}/${id}`;

/** A task definition as DescribeTaskDefinition answers it, read-only fields included. */
export function taskDefinition(rev: number, image = OLD_IMAGE): TaskDefinition {
  return {
    taskDefinitionArn: tdArn(rev),
    family: 'portal-api',
    revision: rev,
    status: 'ACTIVE',
    taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/portal-api-task`,
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/portal-api-execution`,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    compatibilities: ['EC2', 'FARGATE'],
    requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
    cpu: '512',
    memory: '1024',
    runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
    registeredAt: new Date('2030-01-01T00:00:00Z'),
    registeredBy: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/ci`,
    containerDefinitions: [
      {
        name: 'app',
        image,
        essential: true,
        portMappings: [{ containerPort: 3000, protocol: 'tcp' }],
        environment: [
          { name: 'NODE_ENV', value: 'production' },
          { name: 'DATABASE_SECRET_ID', value: 'portal/dev/database' },
        ],
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': '/ecs/portal-api',
            'awslogs-region': REGION,
            'awslogs-stream-prefix': 'ecs',
          },
        },
      },
    ],
  };
}

export function deployment(overrides: Partial<Deployment>): Deployment {
  return {
    id: 'ecs-svc/1',
    status: 'PRIMARY',
    taskDefinition: tdArn(41),
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 0,
    failedTasks: 0,
    rolloutState: 'COMPLETED',
    ...overrides,
  };
}

export function service(overrides: Partial<Service> = {}): Service {
  return {
    serviceName: SERVICE,
    serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`,
    status: 'ACTIVE',
    taskDefinition: tdArn(41),
    desiredCount: 2,
    runningCount: 2,
    launchType: 'FARGATE',
    platformVersion: 'LATEST',
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: ['subnet-a', 'subnet-b'],
        securityGroups: ['sg-app'],
        assignPublicIp: 'DISABLED',
      },
    },
    deploymentController: { type: 'ECS' },
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    deployments: [deployment({})],
    events: [{ id: 'ev-old', createdAt: new Date('2030-01-01T00:00:00Z'), message: 'old news' }],
    ...overrides,
  };
}

export function task(id: string, overrides: Partial<Task> = {}, exitCode?: number): Task {
  return {
    taskArn: taskArn(id),
    lastStatus: 'STOPPED',
    startedAt: new Date('2030-01-01T00:01:00Z'),
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers: [{ name: 'app', lastStatus: 'STOPPED', exitCode }],
    ...overrides,
  };
}

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
