import {
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  StackProps,
  Tags,
  Token,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { EnvironmentContext, EnvironmentSettings } from './config';
import { deploySubjects, githubRole } from './github';
import { acknowledge } from './nag';

export interface ServiceStackProps extends StackProps {
  settings: EnvironmentSettings;
  context: EnvironmentContext;
  repository: ecr.IRepository;
  githubRepository: string;
  githubOidcProviderArn: string;
  adotImage: string;
}

/** The task definition tag the deploy tool (tools/ecs, prefix "portal-api:") reads. */
export const MANAGED_BY_TAG = { key: 'portal-api:managed-by', value: 'cdk' };
/** The app container's name: the deploy tool changes the image of this container. */
export const APP_CONTAINER = 'app';
export const APP_PORT = 3000;
/** The logins' user names (the master user's is the RDS default for the app). */
export const LOGINS = { master: 'portal_admin', migrator: 'portal_migrate', app: 'portal_api' };
export const PURGE_COMMAND = ['node', 'dist/src/warnings/purge-warnings.cli.js'];
export const BOOTSTRAP_COMMAND = ['node', 'dist/src/database/bootstrap.js'];

/**
 * One environment of portal-api: network, database and its logins, secrets, the ECS service
 * behind a load balancer, the scheduled warnings purge, and the IAM roles of every task and of
 * the deploy workflow.
 */
export class ServiceStack extends Stack {
  readonly vpc: ec2.IVpc;
  readonly database: rds.DatabaseInstance;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  private readonly zones?: string[];

  /**
   * The zones of a VPC the stack creates: <env>:availabilityZones when set; otherwise CDK's
   * (Fn::GetAZs without a fixed account, a cached context lookup with one).
   */
  override get availabilityZones(): string[] {
    return this.zones ?? super.availabilityZones;
  }

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    this.zones = props.context.availabilityZones;
    const { settings, context } = props;
    const env = settings.name;
    const prefix = `portal-api-${env}`;
    // How cdk-nag spells an ARN of this stack in a finding id (pseudo parameters when the
    // account or region is not fixed).
    const nagArn = (service: string, resource: string) =>
      `arn:<AWS::Partition>:${service}:${Token.isUnresolved(this.region) ? '<AWS::Region>' : this.region}:${
        Token.isUnresolved(this.account) ? '<AWS::AccountId>' : this.account
      }:${resource}`;
    // (Not under "portal-api:": that prefix belongs to the deploy tool's task definition tags.)
    Tags.of(this).add('project', 'portal-api');
    Tags.of(this).add('environment', env);

    // ---- network
    let vpc: ec2.IVpc;
    if (context.vpcId) {
      vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: context.vpcId });
    } else {
      const created = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: settings.natGateways,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
          { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
        ],
      });
      created.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(
          new logs.LogGroup(this, 'FlowLogs', {
            retention: settings.logRetention,
            removalPolicy: RemovalPolicy.DESTROY,
          }),
        ),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      });
      vpc = created;
    }
    this.vpc = vpc;
    const appSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const databaseSubnets =
      vpc.isolatedSubnets.length > 0 ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } : appSubnets;

    // ---- database: PostgreSQL, encrypted, TLS required, credentials in Secrets Manager
    const parameterGroup = new rds.ParameterGroup(this, 'DatabaseParameters', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
      description: `${prefix}: TLS required`,
      parameters: { 'rds.force_ssl': '1' },
    });
    // RDS exports the server log here; made by the stack to set its retention (RDS's own
    // cloudwatchLogsRetention would add a Lambda function for that).
    const databaseLogs = new logs.LogGroup(this, 'DatabaseLogs', {
      logGroupName: `/aws/rds/instance/${prefix}/postgresql`,
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const database = new rds.DatabaseInstance(this, 'Database', {
      instanceIdentifier: prefix,
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
      instanceType: settings.database.instanceType,
      vpc,
      vpcSubnets: databaseSubnets,
      databaseName: 'portal',
      credentials: rds.Credentials.fromGeneratedSecret(LOGINS.master, {
        secretName: `portal-api/${env}/database/master`,
      }),
      parameterGroup,
      // The root the shipped bundle (certs/rds-global-bundle.pem) verifies.
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      storageEncrypted: true,
      storageType: rds.StorageType.GP3,
      allocatedStorage: settings.database.allocatedStorageGiB,
      maxAllocatedStorage: settings.database.maxAllocatedStorageGiB,
      multiAz: settings.database.multiAz,
      deletionProtection: settings.database.deletionProtection,
      backupRetention: settings.database.backupRetention,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: ['postgresql'],
      publiclyAccessible: false,
    });
    database.node.addDependency(databaseLogs);
    this.database = database;
    acknowledge(database, {
      'AwsSolutions-RDS11':
        'the default port is reachable only from the tasks and the rotation functions (security groups); another port adds no protection',
      'AwsSolutions-RDS6':
        'logins use passwords from Secrets Manager, rotated every month; IAM authentication would add a token refresh to every pooled connection',
      ...(settings.database.multiAz
        ? {}
        : {
            'AwsSolutions-RDS3': 'dev runs a single instance to save cost; production is Multi-AZ',
          }),
      ...(settings.database.deletionProtection
        ? {}
        : {
            'AwsSolutions-RDS10':
              'dev can be torn down; a final snapshot is still taken (removal policy SNAPSHOT); production has deletion protection',
          }),
    });

    // The two logins besides the master user (docs/deploy.md, "Database roles"): the migrator
    // (member of portal_migrator, owns the schema) and the app (member of portal_app, DML).
    // npm run db:bootstrap creates them from these secrets; rotation alternates each with a
    // "_clone" login that inherits its membership.
    const rotationSubnets = appSubnets; // the rotation functions reach Secrets Manager via NAT
    const loginSecret = (name: 'migrator' | 'app') => {
      const secret = new rds.DatabaseSecret(this, `${name === 'app' ? 'App' : 'Migrator'}Login`, {
        username: LOGINS[name],
        secretName: `portal-api/${env}/database/${name}`,
        masterSecret: database.secret,
      }).attach(database);
      database.addRotationMultiUser(`${name === 'app' ? 'App' : 'Migrator'}LoginRotation`, {
        secret,
        automaticallyAfter: Duration.days(settings.passwordRotationDays),
        vpcSubnets: rotationSubnets,
        // Not at creation: the login exists only once npm run db:bootstrap has run, and the
        // multi-user rotation starts by signing in with it.
        rotateImmediatelyOnUpdate: false,
      });
      return secret;
    };
    database.addRotationSingleUser({
      automaticallyAfter: Duration.days(settings.passwordRotationDays),
      vpcSubnets: rotationSubnets,
    });
    const migratorSecret = loginSecret('migrator');
    const appSecret = loginSecret('app');

    // ---- application secrets
    const jwtKeys = new secretsmanager.Secret(this, 'JwtSigningKeys', {
      secretName: `portal-api/${env}/jwt-signing-keys`,
      description:
        'JWT signing key set: written by scripts/generate-and-store-keys.sh (the generated placeholder is not a key set)',
    });
    acknowledge(jwtKeys, {
      'AwsSolutions-SMG4':
        'a key set, rotated by scripts/generate-and-store-keys.sh --rotate, which keeps the previous public keys so no one is signed out; a rotation function would replace the set',
    });
    const adminPassword = new secretsmanager.Secret(this, 'AdminPassword', {
      secretName: `portal-api/${env}/admin-password`,
      description:
        'The ADM account password: rotated by npm run rotate-password (monthly workflow)',
    });
    acknowledge(adminPassword, {
      'AwsSolutions-SMG4':
        'rotated monthly by the rotate-admin-password workflow (npm run rotate-password:trigger), which sets the bcrypt hash and the secret together',
    });

    // ---- IAM of the tasks
    const ecsTasks = new iam.ServicePrincipal('ecs-tasks.amazonaws.com');
    const executionRole = new iam.Role(this, 'TaskExecutionRole', {
      assumedBy: ecsTasks,
      description: `${prefix}: pull the image, write the logs`,
    });
    props.repository.grantPull(executionRole);
    acknowledge(executionRole, {
      'AwsSolutions-IAM5[Resource::*]':
        'ecr:GetAuthorizationToken has no resource-level permissions; image pulls are limited to the repository',
    });
    // The API: reads its own database login and the JWT keys, nothing else.
    const apiRole = new iam.Role(this, 'ApiTaskRole', {
      assumedBy: ecsTasks,
      description: `${prefix}: the API and the scheduled purge`,
    });
    appSecret.grantRead(apiRole);
    jwtKeys.grantRead(apiRole);
    // The migration task (npm run deploy --task-role-arn): the migrator login only.
    const migrationRole = new iam.Role(this, 'MigrationTaskRole', {
      assumedBy: ecsTasks,
      description: `${prefix}: the deploy tool's migration task`,
    });
    migratorSecret.grantRead(migrationRole);
    // The password rotation task: the app login, and the admin password secret read-write.
    const rotationRole = new iam.Role(this, 'RotationTaskRole', {
      assumedBy: ecsTasks,
      description: `${prefix}: the admin password rotation task`,
    });
    appSecret.grantRead(rotationRole);
    rotationRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [adminPassword.secretArn],
      }),
    );
    // npm run db:bootstrap (run by hand, docs/deploy.md): the master user and both logins.
    const bootstrapRole = new iam.Role(this, 'DatabaseBootstrapTaskRole', {
      assumedBy: ecsTasks,
      description: `${prefix}: npm run db:bootstrap (creates the database logins)`,
    });
    database.secret!.grantRead(bootstrapRole);
    migratorSecret.grantRead(bootstrapRole);
    appSecret.grantRead(bootstrapRole);

    // ---- the task definition the service runs (and the one-off tasks run with overrides)
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/ecs/${prefix}`,
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: prefix,
      cpu: settings.cpu,
      memoryLimitMiB: settings.memoryMiB,
      executionRole,
      taskRole: apiRole,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.taskDefinition = taskDefinition;
    Tags.of(taskDefinition).add(MANAGED_BY_TAG.key, MANAGED_BY_TAG.value);
    const image = context.image
      ? ecs.ContainerImage.fromRegistry(context.image)
      : ecs.ContainerImage.fromEcrRepository(props.repository, 'latest');
    const app = taskDefinition.addContainer(APP_CONTAINER, {
      containerName: APP_CONTAINER,
      image,
      essential: true,
      portMappings: [{ containerPort: APP_PORT, protocol: ecs.Protocol.TCP }],
      // ECS waits this long after SIGTERM before SIGKILL; the app drains within 25 s.
      stopTimeout: Duration.seconds(30),
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: APP_CONTAINER }),
      environment: {
        NODE_ENV: 'production',
        PORT: String(APP_PORT),
        DATABASE_SSL: 'true',
        // Secret ids, not values: each task's role decides which of them it can read.
        DATABASE_SECRET_ID: appSecret.secretArn,
        DATABASE_MIGRATOR_SECRET_ID: migratorSecret.secretArn,
        DATABASE_MASTER_SECRET_ID: database.secret!.secretArn,
        JWT_SIGNING_KEYS_SECRET_ID: jwtKeys.secretArn,
        ADMIN_PASSWORD_SECRET_ID: adminPassword.secretArn,
        // The scheduled task purges; the service's replicas do not.
        WARNINGS_PURGE_ENABLED: 'false',
        ...(context.adot ? { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' } : {}),
      },
    });
    if (context.adot) {
      const collector = taskDefinition.addContainer('adot-collector', {
        containerName: 'adot-collector',
        image: ecs.ContainerImage.fromRegistry(props.adotImage),
        essential: false,
        command: ['--config=/etc/ecs/ecs-default-config.yaml'],
        memoryReservationMiB: 64,
        logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'adot' }),
      });
      app.addContainerDependencies({
        container: collector,
        condition: ecs.ContainerDependencyCondition.START,
      });
      apiRole.addToPolicy(
        new iam.PolicyStatement({
          actions: [
            'xray:PutTraceSegments',
            'xray:PutTelemetryRecords',
            'xray:GetSamplingRules',
            'xray:GetSamplingTargets',
            'xray:GetSamplingStatisticSummaries',
          ],
          resources: ['*'],
        }),
      );
      apiRole.addToPolicy(
        new iam.PolicyStatement({
          actions: [
            'logs:CreateLogGroup',
            'logs:CreateLogStream',
            'logs:PutLogEvents',
            'logs:DescribeLogStreams',
          ],
          resources: [
            this.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '/aws/ecs/application/metrics*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
      acknowledge(apiRole, {
        'AwsSolutions-IAM5[Resource::*]':
          'X-Ray trace and sampling actions have no resource-level permissions (ADOT collector)',
        [`AwsSolutions-IAM5[Resource::${nagArn('logs', 'log-group:/aws/ecs/application/metrics*')}]`]:
          'the ADOT collector writes embedded-metric logs to groups under /aws/ecs/application/metrics, named by the collector',
      });
    }
    acknowledge(taskDefinition, {
      'AwsSolutions-ECS2':
        'the environment holds settings and secret ids, never secret values: the app reads the values with its task role at start',
    });

    // ---- cluster, load balancer, service
    const cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: prefix,
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const accessLogs = new s3.Bucket(this, 'LoadBalancerLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    acknowledge(accessLogs, {
      'AwsSolutions-S1':
        'this bucket holds the load balancer access logs; logging access to the log bucket itself would recurse',
    });
    const albSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: `${prefix}: the public load balancer`,
      allowAllOutbound: false,
    });
    const ports = context.certificateArn ? [80, 443] : [80];
    for (const port of ports) {
      albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `HTTP(S) ${port}`);
    }
    acknowledge(albSecurityGroup, {
      'AwsSolutions-EC23': 'the API is public: its load balancer takes HTTP(S) from anywhere',
    });
    const alb = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: albSecurityGroup,
      dropInvalidHeaderFields: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    });
    alb.logAccessLogs(accessLogs, prefix);

    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc,
      description: `${prefix}: the API tasks and one-off tasks`,
      allowAllOutbound: true,
    });
    const service = new ecs.FargateService(this, 'Service', {
      serviceName: 'portal-api',
      cluster,
      taskDefinition,
      // The service follows the family's latest revision: a revision this stack registers is
      // rolled out by the next npm run deploy (--from-latest), not by CloudFormation.
      taskDefinitionRevision: ecs.TaskDefinitionRevision.LATEST,
      desiredCount: context.desiredCount ?? settings.desiredCount,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      deploymentController: { type: ecs.DeploymentControllerType.ECS },
      healthCheckGracePeriod: Duration.seconds(60),
      assignPublicIp: false,
      vpcSubnets: appSubnets,
      securityGroups: [serviceSecurityGroup],
      propagateTags: ecs.PropagatedTagSource.TASK_DEFINITION,
    });
    this.service = service;
    const targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc,
      port: APP_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: [
        service.loadBalancerTarget({ containerName: APP_CONTAINER, containerPort: APP_PORT }),
      ],
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: '/ping',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    if (context.certificateArn) {
      alb.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(context.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [targetGroup],
        open: false,
      });
      alb.addRedirect({ sourcePort: 80, targetPort: 443 });
    } else {
      alb.addListener('Http', { port: 80, defaultTargetGroups: [targetGroup], open: false });
    }
    database.connections.allowDefaultPortFrom(serviceSecurityGroup, 'the API and its tasks');

    // ---- the scheduled warnings purge: a one-off task of the service's latest revision
    const familyArn = this.formatArn({
      service: 'ecs',
      resource: 'task-definition',
      resourceName: prefix,
    });
    const schedulerRole = new iam.Role(this, 'PurgeScheduleRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `${prefix}: run the warnings purge task`,
    });
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [`${familyArn}:*`],
        conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
      }),
    );
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [executionRole.roleArn, apiRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    new events.Rule(this, 'PurgeSchedule', {
      description: `${prefix}: delete expired warnings (${PURGE_COMMAND.join(' ')})`,
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [
        {
          bind: () => ({
            arn: cluster.clusterArn,
            role: schedulerRole,
            ecsParameters: {
              // The family without a revision: ECS runs its latest ACTIVE revision, i.e. the
              // image the last deploy registered.
              taskDefinitionArn: familyArn,
              taskCount: 1,
              launchType: 'FARGATE',
              platformVersion: 'LATEST',
              networkConfiguration: {
                awsVpcConfiguration: {
                  subnets: vpc.selectSubnets(appSubnets).subnetIds,
                  securityGroups: [serviceSecurityGroup.securityGroupId],
                  assignPublicIp: 'DISABLED',
                },
              },
              propagateTags: 'TASK_DEFINITION',
            },
            input: events.RuleTargetInput.fromObject({
              containerOverrides: [{ name: APP_CONTAINER, command: PURGE_COMMAND }],
            }),
            retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 240 },
          }),
        },
      ],
    });
    acknowledge(schedulerRole, {
      [`AwsSolutions-IAM5[Resource::${nagArn('ecs', `task-definition/${prefix}:*`)}]`]:
        'the purge runs the latest revision of its own family, which the deploy tool registers; RunTask is limited to the cluster',
    });

    // ---- the deploy workflow's role (and the rotation workflow's), for this environment only
    const deployRole = githubRole(this, 'DeployRole', {
      providerArn: props.githubOidcProviderArn,
      subjects: deploySubjects(props.githubRepository, env),
      description: `GitHub Actions (environment ${env}, main): npm run deploy, rotate-password:trigger`,
    });
    deployRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
        resources: [service.serviceArn],
      }),
    );
    deployRole.addToPolicy(
      new iam.PolicyStatement({
        // Not resource-scoped by ECS.
        actions: [
          'ecs:DescribeTaskDefinition',
          'ecs:RegisterTaskDefinition',
          'ecs:DeregisterTaskDefinition',
          'ecs:ListTaskDefinitions',
        ],
        resources: ['*'],
      }),
    );
    deployRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [`${familyArn}:*`],
        conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
      }),
    );
    deployRole.addToPolicy(
      new iam.PolicyStatement({
        // Tags copied at registration, and the tool's marks on revisions (e.g. a failed one).
        actions: ['ecs:TagResource'],
        resources: [`${familyArn}:*`],
      }),
    );
    deployRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeTasks', 'ecs:StopTask', 'ecs:ListTasks'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
      }),
    );
    deployRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [
          executionRole.roleArn,
          apiRole.roleArn,
          migrationRole.roleArn,
          rotationRole.roleArn,
        ],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    logGroup.grant(deployRole, 'logs:GetLogEvents', 'logs:FilterLogEvents');
    acknowledge(deployRole, {
      'AwsSolutions-IAM5[Resource::*]':
        'task definition reads and registrations have no resource-level permissions in ECS; task reads and stops are limited to the cluster by condition',
      [`AwsSolutions-IAM5[Resource::${nagArn('ecs', `task-definition/${prefix}:*`)}]`]:
        'every release registers a new revision of this one family; RunTask is limited to the cluster',
      'AwsSolutions-IAM5[Resource::<LogsFB06A55D.Arn>:*]':
        'the tool reads the log streams of the tasks it ran, inside this one log group',
    });

    // ---- what the workflows and the operators need
    const out = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    out('EcsCluster', cluster.clusterName, `GitHub ${env} environment variable ECS_CLUSTER`);
    out('EcsService', service.serviceName, `GitHub ${env} environment variable ECS_SERVICE`);
    out(
      'DeployRoleArn',
      deployRole.roleArn,
      `GitHub ${env} environment variable AWS_DEPLOY_ROLE_ARN`,
    );
    out('AdminPasswordSecretId', adminPassword.secretArn, 'ADMIN_PASSWORD_SECRET_ID');
    out(
      'JwtSigningKeysSecretId',
      jwtKeys.secretArn,
      'scripts/generate-and-store-keys.sh --secret-id',
    );
    out('MigrationTaskRoleArn', migrationRole.roleArn, 'npm run deploy --task-role-arn');
    out('RotationTaskRoleArn', rotationRole.roleArn, 'the rotation task role');
    out(
      'DatabaseBootstrapTaskRoleArn',
      bootstrapRole.roleArn,
      'npm run db:bootstrap (run-task override)',
    );
    out('LoadBalancerDns', alb.loadBalancerDnsName, 'the API');
  }
}
