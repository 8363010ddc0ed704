import { Duration } from 'aws-cdk-lib';
import { InstanceClass, InstanceSize, InstanceType } from 'aws-cdk-lib/aws-ec2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** The environments the app deploys to; each is one stack (and one GitHub environment). */
export const ENVIRONMENTS = ['dev', 'production'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** What differs between dev and production. */
export interface EnvironmentSettings {
  name: EnvironmentName;
  /** Tasks of the API service. */
  desiredCount: number;
  /** Fargate task size. */
  cpu: number;
  memoryMiB: number;
  /** NAT gateways of a VPC the stack creates (one per AZ in production). */
  natGateways: number;
  database: {
    instanceType: InstanceType;
    allocatedStorageGiB: number;
    maxAllocatedStorageGiB: number;
    multiAz: boolean;
    deletionProtection: boolean;
    backupRetention: Duration;
  };
  /** CloudWatch Logs retention of the tasks' logs (awslogs), the VPC flow logs and RDS logs. */
  logRetention: RetentionDays;
  /** Days between rotations of the database logins' passwords (Secrets Manager). */
  passwordRotationDays: number;
}

export const SETTINGS: Record<EnvironmentName, EnvironmentSettings> = {
  dev: {
    name: 'dev',
    desiredCount: 1,
    cpu: 256,
    memoryMiB: 512,
    natGateways: 1,
    database: {
      instanceType: InstanceType.of(InstanceClass.T4G, InstanceSize.MICRO),
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 50,
      multiAz: false,
      deletionProtection: false,
      backupRetention: Duration.days(7),
    },
    logRetention: RetentionDays.ONE_MONTH,
    passwordRotationDays: 30,
  },
  production: {
    name: 'production',
    desiredCount: 2,
    cpu: 512,
    memoryMiB: 1024,
    natGateways: 2,
    database: {
      instanceType: InstanceType.of(InstanceClass.T4G, InstanceSize.SMALL),
      allocatedStorageGiB: 50,
      maxAllocatedStorageGiB: 200,
      multiAz: true,
      deletionProtection: true,
      backupRetention: Duration.days(30),
    },
    logRetention: RetentionDays.ONE_YEAR,
    passwordRotationDays: 30,
  },
};

/**
 * Context values (`-c key=value`, or cdk.json). None is needed to synthesize; a deployment sets
 * githubRepository, and usually account and <env>:image.
 */
export interface InfraContext {
  /** AWS account; needed only to look up an existing VPC. */
  account?: string;
  region: string;
  /** OWNER/REPO whose workflows may assume the CI roles. */
  githubRepository: string;
  /** An existing GitHub OIDC provider of the account (there can be only one). */
  githubOidcProviderArn?: string;
  environments: Record<EnvironmentName, EnvironmentContext>;
}

export interface EnvironmentContext {
  /** Use this VPC (looked up) instead of creating one. */
  vpcId?: string;
  /** Availability zones of a VPC the stack creates (default: the first two of the region). */
  availabilityZones?: string[];
  /** The image of the first task definition; later releases change it with npm run deploy. */
  image?: string;
  /** ACM certificate for HTTPS on the load balancer (HTTP only without it). */
  certificateArn?: string;
  /** Run an AWS Distro for OpenTelemetry collector beside the app. */
  adot: boolean;
  desiredCount?: number;
}

/**
 * A repository that cannot exist (GitHub names never start with "-"): the CI roles trust
 * nothing until githubRepository is set.
 */
export const UNSET_REPOSITORY = '-unset-/-unset-';

export const DEFAULT_REGION = 'sa-east-1';

/** The AWS Distro for OpenTelemetry collector, pinned; override with -c adotImage=... */
export const DEFAULT_ADOT_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3';

type ContextReader = (key: string) => unknown;

function text(read: ContextReader, key: string): string | undefined {
  const v = read(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    throw new Error(`context ${key} must be a string`);
  }
  return String(v);
}

/** Reads and checks the context; a bad value stops synthesis with a message naming it. */
export function readContext(read: ContextReader): InfraContext & { adotImage: string } {
  const problems: string[] = [];
  const account = text(read, 'account') ?? process.env.CDK_DEFAULT_ACCOUNT;
  if (account !== undefined && !/^\d{12}$/.test(account)) {
    problems.push('account must be a 12-digit AWS account id');
  }
  const region = text(read, 'region') ?? process.env.CDK_DEFAULT_REGION ?? DEFAULT_REGION;
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) problems.push(`region "${region}" is not a region`);
  const githubRepository = text(read, 'githubRepository') ?? UNSET_REPOSITORY;
  if (
    githubRepository !== UNSET_REPOSITORY &&
    !/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/[A-Za-z0-9._-]+$/.test(githubRepository)
  ) {
    problems.push('githubRepository must look like OWNER/REPO');
  }
  const githubOidcProviderArn = text(read, 'githubOidcProviderArn');
  if (
    githubOidcProviderArn !== undefined &&
    !/^arn:aws[\w-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/.test(
      githubOidcProviderArn,
    )
  ) {
    problems.push(
      'githubOidcProviderArn must be the ARN of the token.actions.githubusercontent.com provider',
    );
  }
  const environments = {} as Record<EnvironmentName, EnvironmentContext>;
  for (const env of ENVIRONMENTS) {
    const vpcId = text(read, `${env}:vpcId`);
    if (vpcId !== undefined && !/^vpc-[0-9a-f]{8,17}$/.test(vpcId)) {
      problems.push(`${env}:vpcId must be a VPC id (vpc-...)`);
    }
    if (vpcId !== undefined && account === undefined) {
      problems.push(`${env}:vpcId needs the account (-c account=...) to look the VPC up`);
    }
    const zones = text(read, `${env}:availabilityZones`)
      ?.split(',')
      .map((z) => z.trim())
      .filter(Boolean);
    if (zones !== undefined && (zones.length < 2 || zones.some((z) => !z.startsWith(region)))) {
      problems.push(
        `${env}:availabilityZones must name two or more zones of ${region}, comma-separated`,
      );
    }
    const certificateArn = text(read, `${env}:certificateArn`);
    if (certificateArn !== undefined && !/^arn:aws[\w-]*:acm:/.test(certificateArn)) {
      problems.push(`${env}:certificateArn must be an ACM certificate ARN`);
    }
    const adot = text(read, `${env}:adot`) ?? 'false';
    if (!['true', 'false'].includes(adot)) problems.push(`${env}:adot must be true or false`);
    const count = text(read, `${env}:desiredCount`);
    if (count !== undefined && !/^\d{1,2}$/.test(count)) {
      problems.push(`${env}:desiredCount must be a whole number`);
    }
    environments[env] = {
      vpcId,
      availabilityZones: zones,
      image: text(read, `${env}:image`),
      certificateArn,
      adot: adot === 'true',
      desiredCount: count === undefined ? undefined : Number(count),
    };
  }
  if (problems.length > 0) {
    throw new Error(`Invalid context:\n  - ${problems.join('\n  - ')}`);
  }
  return {
    account,
    region,
    githubRepository,
    githubOidcProviderArn,
    environments,
    adotImage: text(read, 'adotImage') ?? DEFAULT_ADOT_IMAGE,
  };
}
