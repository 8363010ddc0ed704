import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { buildApp, contextFromArgs, PortalApiApp } from './app';
import { readContext, UNSET_REPOSITORY } from './config';
import { BOOTSTRAP_COMMAND, PURGE_COMMAND } from './service-stack';

/**
 * The CDK app, synthesized offline: once with nothing but the repository (a VPC of its own, HTTP,
 * no collector) and once as a real account would be (an existing VPC from cached lookup context,
 * HTTPS, the ADOT collector, a pinned image).
 */
const REPO = 'example-org/portal-api';
const ACCOUNT = '123456789012';
const VPC_ID = 'vpc-0123456789abcdef0';
const IMAGE = `${ACCOUNT}.dkr.ecr.sa-east-1.amazonaws.com/portal-api@sha256:${'a'.repeat(64)}`;
const CERTIFICATE = `arn:aws:acm:sa-east-1:${ACCOUNT}:certificate/0f6b1e2c-1111-2222-3333-444455556666`;

function subnets(kind: string, third: number) {
  return ['a', 'b'].map((zone, i) => ({
    subnetId: `subnet-0${kind}${i}${'0'.repeat(14 - kind.length)}`.slice(0, 24),
    cidr: `10.20.${third + i}.0/24`,
    availabilityZone: `sa-east-1${zone}`,
    routeTableId: `rtb-0${kind}${i}${'0'.repeat(14 - kind.length)}`.slice(0, 21),
  }));
}

/** What `cdk synth` caches in cdk.context.json after looking the VPC (and the zones) up. */
const LOOKUP_CONTEXT = {
  [`availability-zones:account=${ACCOUNT}:region=sa-east-1`]: [
    'sa-east-1a',
    'sa-east-1b',
    'sa-east-1c',
  ],
  [`vpc-provider:account=${ACCOUNT}:filter.vpc-id=${VPC_ID}:region=sa-east-1:returnAsymmetricSubnets=true`]:
    {
      vpcId: VPC_ID,
      vpcCidrBlock: '10.20.0.0/16',
      ownerAccountId: ACCOUNT,
      availabilityZones: [],
      subnetGroups: [
        { name: 'Public', type: 'Public', subnets: subnets('aaa', 0) },
        { name: 'Private', type: 'Private', subnets: subnets('bbb', 10) },
        { name: 'Isolated', type: 'Isolated', subnets: subnets('ccc', 20) },
      ],
    },
};

let plain: PortalApiApp;
let real: PortalApiApp;
const t = (a: PortalApiApp, stack: 'shared' | 'dev' | 'production'): Template =>
  Template.fromStack(stack === 'shared' ? a.shared : a.environments[stack]);

// CDK's built-in CloudFormation linter (a WebAssembly cfn-lint, ~20 s per synthesis here) is
// left to npm run infra:synth; these tests check the properties and run cdk-nag.
const testApp = (context: Record<string, unknown>) =>
  new App({ context, builtinCloudFormationValidation: false });

beforeAll(() => {
  plain = buildApp(testApp({ githubRepository: REPO }));
  real = buildApp(
    testApp({
      ...LOOKUP_CONTEXT,
      account: ACCOUNT,
      githubRepository: REPO,
      githubOidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
      'dev:vpcId': VPC_ID,
      'dev:adot': 'true',
      'dev:certificateArn': CERTIFICATE,
      'dev:image': IMAGE,
    }),
  );
  // Synthesis runs the validation plugins (cdk-nag among them): it throws on a finding.
  plain.app.synth();
  real.app.synth();
});

/** Statements of every IAM policy attached to the role (by its logical id). */
function statementsOf(template: Template, roleId: string): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
  });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: [] } } }).Properties.PolicyDocument
        .Statement,
  );
}

function roleId(template: Template, descriptionPattern: RegExp): string {
  const roles = template.findResources('AWS::IAM::Role');
  const ids = Object.entries(roles)
    .filter(([, r]) =>
      descriptionPattern.test(
        String((r as { Properties: { Description?: string } }).Properties.Description),
      ),
    )
    .map(([id]) => id);
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** Logical ids of the secrets a role may call secretsmanager:<action> on. */
function secretsFor(template: Template, role: string, action: string): string[] {
  const ids = new Set<string>();
  for (const s of statementsOf(template, role)) {
    const actions = ([] as string[]).concat(s.Action as string);
    if (!actions.includes(`secretsmanager:${action}`)) continue;
    for (const r of ([] as unknown[]).concat(s.Resource)) {
      const ref = (r as { Ref?: string }).Ref;
      expect(ref).toBeDefined(); // a secret, never a wildcard
      ids.add(ref!);
    }
  }
  return [...ids].sort();
}

function secretIds(template: Template): Record<string, string> {
  const byName: Record<string, string> = {};
  for (const [id, r] of Object.entries(template.findResources('AWS::SecretsManager::Secret'))) {
    byName[String((r as { Properties: { Name: string } }).Properties.Name)] = id;
  }
  for (const [id, r] of Object.entries(
    template.findResources('AWS::SecretsManager::SecretTargetAttachment'),
  )) {
    // A login secret attached to the instance: its Ref is the secret's ARN too.
    const secret = (r as { Properties: { SecretId: { Ref: string } } }).Properties.SecretId.Ref;
    const name = Object.keys(byName).find((n) => byName[n] === secret);
    if (name) byName[`${name}#attachment`] = id;
  }
  return byName;
}

describe('context', () => {
  it('synthesizes with no context at all (npm run infra:synth), trusting no repository', () => {
    const a = buildApp(testApp({}));
    const deploy = t(a, 'dev').findResources('AWS::IAM::Role', {
      Properties: { Description: Match.stringLikeRegexp('^GitHub Actions') },
    });
    expect(JSON.stringify(deploy)).toContain(`repo:${UNSET_REPOSITORY}:environment:dev`);
    Annotations.fromStack(a.shared).hasWarning('*', Match.stringLikeRegexp('githubRepository'));
  });

  it('refuses bad values, naming each', () => {
    const ctx = (values: Record<string, string>) => () => readContext((k) => values[k]);
    const both = ctx({ githubRepository: 'not a repo', region: 'mars' });
    expect(both).toThrow(/githubRepository must look like OWNER\/REPO/);
    expect(both).toThrow(/region "mars" is not a region/);
    expect(ctx({ 'dev:vpcId': 'vpc-0123456789abcdef0' })).toThrow(/dev:vpcId needs the account/);
    expect(ctx({ 'production:adot': 'yes' })).toThrow(/production:adot must be true or false/);
    expect(ctx({ 'dev:availabilityZones': 'us-east-1a' })).toThrow(/dev:availabilityZones/);
    expect(readContext(() => undefined)).toMatchObject({
      region: 'sa-east-1',
      githubRepository: UNSET_REPOSITORY,
      environments: { dev: { adot: false }, production: { adot: false } },
    });
  });
});

describe('npm run infra:synth arguments', () => {
  it('reads -c key=value pairs, and refuses anything else', () => {
    expect(contextFromArgs(['-c', 'dev:adot=true', '--context', 'githubRepository=o/r'])).toEqual({
      'dev:adot': 'true',
      githubRepository: 'o/r',
    });
    expect(() => contextFromArgs(['--profile', 'x'])).toThrow(/unknown argument --profile/);
    expect(() => contextFromArgs(['-c', 'novalue'])).toThrow(/-c needs key=value/);
  });
});

describe('network', () => {
  it('creates a VPC with public, private and isolated subnets in two zones, and flow logs', () => {
    const dev = t(plain, 'dev');
    dev.resourceCountIs('AWS::EC2::VPC', 1);
    dev.resourceCountIs('AWS::EC2::Subnet', 6);
    // Zones without a fixed account: Fn::GetAZs, no lookup.
    dev.hasResourceProperties('AWS::EC2::Subnet', {
      AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
    });
    dev.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC' });
    t(plain, 'production').resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  it('uses an existing VPC by lookup (from cached context: no AWS call)', () => {
    const dev = t(real, 'dev');
    dev.resourceCountIs('AWS::EC2::VPC', 0);
    dev.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          Subnets: [subnets('bbb', 10)[0].subnetId, subnets('bbb', 10)[1].subnetId],
        },
      },
    });
    dev.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
      SubnetIds: subnets('ccc', 20).map((s) => s.subnetId),
    });
    // The other environment still creates its own.
    t(real, 'production').resourceCountIs('AWS::EC2::VPC', 1);
  });
});

describe('database', () => {
  it('is PostgreSQL 17, encrypted, private, TLS-only, its master credentials in Secrets Manager', () => {
    for (const env of ['dev', 'production'] as const) {
      const tpl = t(plain, env);
      tpl.hasResourceProperties('AWS::RDS::DBInstance', {
        Engine: 'postgres',
        EngineVersion: '17',
        StorageEncrypted: true,
        PubliclyAccessible: false,
        CACertificateIdentifier: 'rds-ca-rsa2048-g1',
        MasterUsername: 'portal_admin',
        MasterUserPassword: Match.objectLike({
          'Fn::Join': Match.arrayWith([
            Match.arrayWith([Match.stringLikeRegexp('resolve:secretsmanager')]),
          ]),
        }),
        EnableCloudwatchLogsExports: ['postgresql'],
      });
      tpl.hasResourceProperties('AWS::RDS::DBParameterGroup', {
        Parameters: { 'rds.force_ssl': '1' },
      });
      tpl.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: `portal-api/${env}/database/master`,
        GenerateSecretString: Match.objectLike({
          SecretStringTemplate: '{"username":"portal_admin"}',
        }),
      });
    }
  });

  it('has deletion protection and Multi-AZ in production only; both keep a snapshot on removal', () => {
    t(plain, 'production').hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({ DeletionProtection: true, MultiAZ: true }),
      DeletionPolicy: 'Snapshot',
    });
    t(plain, 'dev').hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({ DeletionProtection: false, MultiAZ: false }),
      DeletionPolicy: 'Snapshot',
    });
  });

  it('has a migrator and an app login, each rotated (multi-user) with the master secret', () => {
    const tpl = t(plain, 'dev');
    const secrets = secretIds(tpl);
    for (const [name, user] of [
      ['migrator', 'portal_migrate'],
      ['app', 'portal_api'],
    ]) {
      tpl.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: `portal-api/dev/database/${name}`,
        GenerateSecretString: Match.objectLike({
          SecretStringTemplate: {
            'Fn::Join': [
              '',
              [
                `{"username":"${user}","masterarn":"`,
                { Ref: secrets['portal-api/dev/database/master#attachment'] },
                '"}',
              ],
            ],
          },
        }),
      });
    }
    tpl.resourceCountIs('AWS::SecretsManager::RotationSchedule', 3);
    // The logins' first rotation waits for its schedule (they exist after db:bootstrap).
    for (const login of ['MigratorLogin', 'AppLogin']) {
      tpl.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
        SecretId: { Ref: Match.stringLikeRegexp(`^${login}Attachment`) },
        RotateImmediatelyOnUpdate: false,
        RotationRules: { ScheduleExpression: 'rate(30 days)' },
      });
    }
    tpl.resourceCountIs('AWS::Serverless::Application', 3);
  });

  it('takes connections from the service security group only', () => {
    const tpl = t(plain, 'dev');
    const ingress = tpl.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: {
        GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseSecurityGroup'), 'GroupId'] },
      },
    });
    expect(Object.keys(ingress)).toHaveLength(4);
    const sources = Object.values(ingress).map(
      (r) =>
        (r as { Properties: { SourceSecurityGroupId: { 'Fn::GetAtt': string[] } } }).Properties
          .SourceSecurityGroupId['Fn::GetAtt'][0],
    );
    expect(sources).toContain('ServiceSecurityGroup61DE1A49');
    // The others are the three rotation functions.
    expect(
      sources.filter((s) => !/Rotation/.test(s) && s !== 'ServiceSecurityGroup61DE1A49'),
    ).toEqual([]);
    expect(JSON.stringify(ingress)).not.toContain('0.0.0.0/0');
  });
});

describe('image repository', () => {
  it('scans on push, keeps tags immutable, and expires old images', () => {
    const shared = t(plain, 'shared');
    shared.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryName: 'portal-api',
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      LifecyclePolicy: {
        LifecyclePolicyText: Match.serializedJson({
          rules: [
            Match.objectLike({
              selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 100 },
              action: { type: 'expire' },
            }),
          ],
        }),
      },
    });
  });
});

describe('ECS service', () => {
  it('runs on Fargate behind the load balancer, rolls back on a failed deployment', () => {
    const dev = t(plain, 'dev');
    dev.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 1,
      DeploymentController: { Type: 'ECS' },
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
      }),
      // The family: the service follows the revisions the deploy tool registers.
      TaskDefinition: 'portal-api-dev',
      LoadBalancers: [Match.objectLike({ ContainerName: 'app', ContainerPort: 3000 })],
    });
    t(plain, 'production').hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2 });
    dev.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('checks health with GET /ping', () => {
    t(plain, 'dev').hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 3000,
      Protocol: 'HTTP',
      TargetType: 'ip',
      HealthCheckPath: '/ping',
      Matcher: { HttpCode: '200' },
    });
  });

  it('gives the app 30 s to stop and logs through awslogs with a retention', () => {
    const dev = t(plain, 'dev');
    dev.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'portal-api-dev',
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'app',
          StopTimeout: 30,
          PortMappings: [{ ContainerPort: 3000, Protocol: 'tcp' }],
          LogConfiguration: {
            LogDriver: 'awslogs',
            Options: {
              'awslogs-group': { Ref: Match.stringLikeRegexp('^Logs') },
              'awslogs-region': 'sa-east-1',
              'awslogs-stream-prefix': 'app',
            },
          },
        }),
      ],
    });
    dev.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/ecs/portal-api-dev',
      RetentionInDays: 30,
    });
    t(plain, 'production').hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/ecs/portal-api-production',
      RetentionInDays: 365,
    });
  });

  it('tags the task definition for the deploy tool, and passes secret ids, never values', () => {
    const dev = t(plain, 'dev');
    const secrets = secretIds(dev);
    dev.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Tags: Match.arrayWith([{ Key: 'portal-api:managed-by', Value: 'cdk' }]),
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'NODE_ENV', Value: 'production' },
            { Name: 'DATABASE_SSL', Value: 'true' },
            {
              Name: 'DATABASE_SECRET_ID',
              Value: { Ref: secrets['portal-api/dev/database/app#attachment'] },
            },
            {
              Name: 'DATABASE_MIGRATOR_SECRET_ID',
              Value: { Ref: secrets['portal-api/dev/database/migrator#attachment'] },
            },
            {
              Name: 'DATABASE_MASTER_SECRET_ID',
              Value: { Ref: secrets['portal-api/dev/database/master#attachment'] },
            },
            {
              Name: 'JWT_SIGNING_KEYS_SECRET_ID',
              Value: { Ref: secrets['portal-api/dev/jwt-signing-keys'] },
            },
            {
              Name: 'ADMIN_PASSWORD_SECRET_ID',
              Value: { Ref: secrets['portal-api/dev/admin-password'] },
            },
            { Name: 'WARNINGS_PURGE_ENABLED', Value: 'false' },
          ]),
        }),
      ],
    });
    const definition = JSON.stringify(dev.findResources('AWS::ECS::TaskDefinition'));
    expect(definition).not.toMatch(/"Secrets"|resolve:secretsmanager/);
    expect(definition).not.toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
  });

  it('runs the image it is given, from the repository by default', () => {
    t(real, 'dev').hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'app', Image: IMAGE })]),
    });
    expect(JSON.stringify(t(plain, 'dev').findResources('AWS::ECS::TaskDefinition'))).toContain(
      ':latest',
    );
  });

  it('serves HTTP, or HTTPS with a redirect from HTTP when a certificate is given', () => {
    t(plain, 'dev').hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    const dev = t(real, 'dev');
    dev.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERTIFICATE }],
    });
    dev.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'redirect' })],
    });
    t(plain, 'dev').hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
  });

  it('adds the ADOT collector beside the app when asked, and points the app at it', () => {
    const dev = t(real, 'dev');
    dev.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'app',
          Environment: Match.arrayWith([
            { Name: 'OTEL_EXPORTER_OTLP_ENDPOINT', Value: 'http://localhost:4318' },
          ]),
          DependsOn: [{ ContainerName: 'adot-collector', Condition: 'START' }],
        }),
        Match.objectLike({
          Name: 'adot-collector',
          Essential: false,
          Image: Match.stringLikeRegexp(
            '^public\\.ecr\\.aws/aws-observability/aws-otel-collector:v',
          ),
          Command: ['--config=/etc/ecs/ecs-default-config.yaml'],
        }),
      ],
    });
    // Off by default, and off in the other environment.
    for (const tpl of [t(plain, 'dev'), t(real, 'production')]) {
      expect(JSON.stringify(tpl.findResources('AWS::ECS::TaskDefinition'))).not.toContain(
        'adot-collector',
      );
    }
  });
});

describe('scheduled warnings purge', () => {
  it('runs the purge command every 5 minutes on the latest revision of the family', () => {
    const dev = t(plain, 'dev');
    dev.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'Arn'] },
          EcsParameters: Match.objectLike({
            LaunchType: 'FARGATE',
            TaskCount: 1,
            TaskDefinitionArn: {
              'Fn::Join': ['', Match.arrayWith([':task-definition/portal-api-dev'])],
            },
            NetworkConfiguration: {
              AwsVpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }),
            },
          }),
          Input: JSON.stringify({ containerOverrides: [{ name: 'app', command: PURGE_COMMAND }] }),
        }),
      ],
    });
    expect(PURGE_COMMAND).toEqual(['node', 'dist/src/warnings/purge-warnings.cli.js']);
  });

  it('may run only that family in that cluster, passing only its roles', () => {
    const dev = t(plain, 'dev');
    const role = roleId(dev, /run the warnings purge task/);
    const statements = statementsOf(dev, role);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'ecs:RunTask',
          Condition: {
            ArnEquals: {
              'ecs:cluster': { 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'Arn'] },
            },
          },
          Resource: {
            'Fn::Join': ['', expect.arrayContaining([':task-definition/portal-api-dev:*'])],
          },
        }),
        expect.objectContaining({
          Action: 'iam:PassRole',
          Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      ]),
    );
    expect(statements).toHaveLength(2);
  });
});

describe('secrets and task roles', () => {
  let dev: Template;
  let secrets: Record<string, string>;
  beforeAll(() => {
    dev = t(plain, 'dev');
    secrets = secretIds(dev);
  });
  const attached = (name: string) =>
    secrets[`portal-api/dev/${name}#attachment`] ?? secrets[`portal-api/dev/${name}`];

  it('keeps the database logins, the JWT signing keys and the admin password in Secrets Manager', () => {
    expect(
      Object.keys(secrets)
        .filter((n) => !n.endsWith('#attachment'))
        .sort(),
    ).toEqual([
      'portal-api/dev/admin-password',
      'portal-api/dev/database/app',
      'portal-api/dev/database/master',
      'portal-api/dev/database/migrator',
      'portal-api/dev/jwt-signing-keys',
    ]);
  });

  it('the API reads its own database login and the JWT keys, nothing else', () => {
    const role = roleId(dev, /the API and the scheduled purge/);
    expect(secretsFor(dev, role, 'GetSecretValue')).toEqual(
      [attached('database/app'), attached('jwt-signing-keys')].sort(),
    );
    expect(secretsFor(dev, role, 'PutSecretValue')).toEqual([]);
  });

  it('the migration task reads the migrator login only', () => {
    const role = roleId(dev, /the deploy tool's migration task/);
    expect(secretsFor(dev, role, 'GetSecretValue')).toEqual([attached('database/migrator')]);
  });

  it('the rotation task has its own role: the app login, and the admin password read-write', () => {
    const role = roleId(dev, /the admin password rotation task/);
    expect(secretsFor(dev, role, 'GetSecretValue')).toEqual(
      [attached('database/app'), secrets['portal-api/dev/admin-password']].sort(),
    );
    for (const action of ['PutSecretValue', 'UpdateSecretVersionStage']) {
      expect(secretsFor(dev, role, action)).toEqual([secrets['portal-api/dev/admin-password']]);
    }
  });

  it('the database bootstrap reads the master user and both logins', () => {
    const role = roleId(dev, /npm run db:bootstrap/);
    expect(secretsFor(dev, role, 'GetSecretValue')).toEqual(
      [attached('database/master'), attached('database/migrator'), attached('database/app')].sort(),
    );
    expect(BOOTSTRAP_COMMAND).toEqual(['node', 'dist/src/database/bootstrap.js']);
  });

  it('the execution role pulls from the repository and writes logs, and reads no secret', () => {
    const role = roleId(dev, /pull the image, write the logs/);
    const statements = JSON.stringify(statementsOf(dev, role));
    expect(statements).toContain('ecr:BatchGetImage');
    expect(statements).toContain('logs:PutLogEvents');
    expect(statements).not.toContain('secretsmanager');
  });
});

describe('GitHub OIDC and the CI roles', () => {
  const trustOf = (template: Template, pattern: RegExp) =>
    (
      template.findResources('AWS::IAM::Role')[roleId(template, pattern)] as {
        Properties: { AssumeRolePolicyDocument: { Statement: Array<Record<string, unknown>> } };
      }
    ).Properties.AssumeRolePolicyDocument.Statement;

  it('creates the OIDC provider for sts.amazonaws.com, or uses the account one', () => {
    t(plain, 'shared').hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    t(real, 'shared').resourceCountIs('AWS::IAM::OIDCProvider', 0);
  });

  it('lets only main push images', () => {
    const shared = t(plain, 'shared');
    expect(trustOf(shared, /push portal-api images/)).toEqual([
      {
        Action: 'sts:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
        Principal: { Federated: { Ref: expect.stringMatching(/^GitHubOidcProvider/) } },
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': [
              `repo:${REPO}:ref:refs/heads/main`,
              `repo:${REPO}:ref:refs/heads/main:ref:refs/heads/main`,
            ],
          },
        },
      },
    ]);
    const policy = JSON.stringify(statementsOf(shared, roleId(shared, /push portal-api images/)));
    for (const action of ['ecr:GetAuthorizationToken', 'ecr:PutImage', 'ecr:CompleteLayerUpload']) {
      expect(policy).toContain(action);
    }
  });

  it('scopes each deploy role to its environment on main (dev included)', () => {
    for (const env of ['dev', 'production'] as const) {
      const tpl = t(plain, env);
      expect(trustOf(tpl, /^GitHub Actions \(environment/)).toEqual([
        expect.objectContaining({
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: {
            Federated: { 'Fn::ImportValue': expect.stringMatching(/GitHubOidcProvider/) },
          },
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': [
                `repo:${REPO}:environment:${env}:ref:refs/heads/main`,
              ],
            },
          },
        }),
      ]);
    }
    // The existing provider, by ARN.
    expect(JSON.stringify(trustOf(t(real, 'dev'), /^GitHub Actions/))).toContain(
      `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
    );
  });

  it('lets the deploy role roll out this service, run its tasks and pass only its task roles', () => {
    const dev = t(plain, 'dev');
    const statements = statementsOf(dev, roleId(dev, /^GitHub Actions \(environment dev/));
    const text = JSON.stringify(statements);
    for (const action of [
      'ecs:DescribeServices',
      'ecs:UpdateService',
      'ecs:RegisterTaskDefinition',
      'ecs:DescribeTaskDefinition',
      'ecs:RunTask',
      'ecs:DescribeTasks',
      'ecs:StopTask',
      'ecs:TagResource',
      'logs:GetLogEvents',
    ]) {
      expect(text).toContain(action);
    }
    const passRole = statements.find((s) => s.Action === 'iam:PassRole')!;
    const passed = (passRole.Resource as Array<{ 'Fn::GetAtt': string[] }>).map(
      (r) => r['Fn::GetAtt'][0],
    );
    expect(passed.sort()).toEqual(
      [
        roleId(dev, /pull the image, write the logs/),
        roleId(dev, /the API and the scheduled purge/),
        roleId(dev, /the deploy tool's migration task/),
        roleId(dev, /the admin password rotation task/),
      ].sort(),
    );
    // Not the bootstrap role: that one is for an operator, once.
    expect(text).not.toContain(roleId(dev, /npm run db:bootstrap/));
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it.each([
    ['no context', () => plain],
    ['lookup, HTTPS and ADOT', () => real],
  ])('finds nothing unacknowledged (%s)', (_name, get) => {
    const report = new AwsSolutionsChecks().validateScope(get().app);
    const findings = report.violations.map(
      (v) =>
        `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  it('gives every acknowledgment a reason', () => {
    const acks: Array<[string, string]> = [];
    const visit = (c: IConstruct) => {
      for (const entry of c.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
            acks.push([id, reason]);
          }
        }
      }
      c.node.children.forEach(visit);
    };
    visit(real.app);
    expect(acks.length).toBeGreaterThan(10);
    for (const [id, reason] of acks) {
      expect(`${id}: ${reason}`).toMatch(/^\S+: .{20,}/);
    }
  });
});
