import { parseDeployArgs, wantsJson } from './deploy-ecs';
import { parseTriggerArgs } from './rotate-password-trigger';
import { ExitCode } from './ecs/common';
import { capacityProviderStrategy } from './lib/cli';

const base = [
  '--cluster',
  'portal-dev',
  '--service',
  'portal-api',
  '--image',
  'repo/api@sha256:abc',
];
const SHA = 'a'.repeat(40);
const ROLE = 'arn:aws:iam::123456789012:role/portal-api-migrator';

function usageError(fn: () => unknown, message: RegExp) {
  expect(fn).toThrow(message);
  try {
    fn();
  } catch (e) {
    expect((e as { exitCode: number }).exitCode).toBe(ExitCode.USAGE);
  }
}

describe('npm run deploy arguments', () => {
  it('parses the documented options with defaults', () => {
    expect(parseDeployArgs(base)).toEqual({
      cluster: 'portal-dev',
      service: 'portal-api',
      image: 'repo/api@sha256:abc',
      container: undefined,
      timeoutSeconds: 900,
      dryRun: false,
      gitSha: undefined,
      allowOlder: false,
      force: false,
      from: undefined,
      taskRoleArn: undefined,
      migrationSecretId: undefined,
      capacityProviderStrategy: undefined,
      startTimeoutSeconds: 300,
      maxFailedTasks: undefined,
      smokeUrl: undefined,
      smokeTimeoutSeconds: 120,
      output: 'text',
      region: undefined,
    });
    expect(
      parseDeployArgs([
        ...base,
        '--container',
        'app',
        '--timeout',
        '1200',
        '--dry-run',
        '--region',
        'sa-east-1',
        '--git-sha',
        SHA.toUpperCase(),
        '--allow-older',
        '--force',
        '--from-latest',
        '--task-role-arn',
        ROLE,
        '--migration-secret-id',
        'portal/prod/database-migrator',
        '--capacity-provider-strategy',
        'FARGATE:1:1,FARGATE_SPOT:3',
        '--start-timeout',
        '120',
        '--max-failed-tasks',
        '3',
        '--smoke-url',
        'https://api.example.com',
        '--smoke-timeout',
        '60',
        '--output',
        'json',
      ]),
    ).toEqual({
      cluster: 'portal-dev',
      service: 'portal-api',
      image: 'repo/api@sha256:abc',
      container: 'app',
      timeoutSeconds: 1200,
      dryRun: true,
      region: 'sa-east-1',
      gitSha: SHA,
      allowOlder: true,
      force: true,
      from: 'latest',
      taskRoleArn: ROLE,
      migrationSecretId: 'portal/prod/database-migrator',
      capacityProviderStrategy: [
        { capacityProvider: 'FARGATE', weight: 1, base: 1 },
        { capacityProvider: 'FARGATE_SPOT', weight: 3, base: 0 },
      ],
      startTimeoutSeconds: 120,
      maxFailedTasks: 3,
      smokeUrl: 'https://api.example.com',
      smokeTimeoutSeconds: 60,
      output: 'json',
    });
    expect(parseDeployArgs([...base, '--from-service'])).toMatchObject({ from: 'service' });
    expect(parseDeployArgs(['--help'])).toBe('help');
  });

  it.each([
    [['--service', 'a', '--image', 'i'], /--cluster is required/],
    [['--cluster', 'c', '--image', 'i'], /--service is required/],
    [['--cluster', 'c', '--service', 's'], /--image is required/],
    [[...base, '--timeout', '0'], /--timeout must be a positive whole number/],
    [[...base, '--timeout', 'soon'], /--timeout must be a positive whole number/],
    [[...base, '--yolo'], /Unknown option '--yolo'/],
    [[...base, 'extra'], /positional/],
    [['--cluster', 'c', '--service', 's', '--image', 'a b'], /must not contain spaces/],
    [[...base, '--git-sha', 'abc123'], /--git-sha must be a full commit SHA/],
    [[...base, '--from-latest', '--from-service'], /exclude each other/],
    [
      [...base, '--task-role-arn', 'portal-api-migrator'],
      /--task-role-arn must be an IAM role ARN/,
    ],
    [[...base, '--capacity-provider-strategy', 'FARGATE:x'], /is not NAME\[:WEIGHT\[:BASE\]\]/],
    [
      [...base, '--max-failed-tasks', '0'],
      /--max-failed-tasks must be a positive whole number of tasks/,
    ],
    [[...base, '--smoke-url', 'api.example.com'], /--smoke-url must be an http\(s\) URL/],
    [[...base, '--smoke-url', 'ftp://api.example.com'], /--smoke-url must be an http\(s\) URL/],
    [[...base, '--output', 'yaml'], /--output must be text or json/],
    [[...base, '--container', ' '], /--container must not be empty/],
  ])('%j is a usage error (exit 2)', (argv, message) => {
    usageError(() => parseDeployArgs(argv), message);
  });

  it('knows it must answer in JSON even when the arguments do not parse', () => {
    expect(wantsJson(['--output', 'json', '--nope'])).toBe(true);
    expect(wantsJson(['--output=json'])).toBe(true);
    expect(wantsJson(['--output', 'text'])).toBe(false);
  });

  it('reads a capacity provider strategy as the ECS API defaults it', () => {
    expect(capacityProviderStrategy('FARGATE_SPOT')).toEqual([
      { capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 },
    ]);
    usageError(
      () => capacityProviderStrategy('FARGATE:1:1,FARGATE_SPOT:1:1'),
      /only one provider may have a base/,
    );
    usageError(() => capacityProviderStrategy('FARGATE,FARGATE'), /names a provider twice/);
  });
});

describe('npm run rotate-password:trigger arguments', () => {
  it('parses the documented options with defaults', () => {
    expect(
      parseTriggerArgs(['--cluster', 'c', '--service', 's', '--email', 'a@b.co', '--role', 'ADM']),
    ).toEqual({
      cluster: 'c',
      service: 's',
      email: 'a@b.co',
      role: 'ADM',
      disabled: false,
      secretId: undefined,
      container: undefined,
      taskDefinition: undefined,
      taskRoleArn: undefined,
      capacityProviderStrategy: undefined,
      timeoutSeconds: 600,
      startTimeoutSeconds: 300,
      region: undefined,
    });
    expect(
      parseTriggerArgs([
        '--cluster',
        'c',
        '--service',
        's',
        '--email',
        'a@b.co',
        '--role',
        'ADM',
        '--task-role-arn',
        'arn:aws:iam::123456789012:role/portal-api-rotation',
        '--task-definition',
        'portal-api-rotate',
      ]),
    ).toMatchObject({
      taskRoleArn: 'arn:aws:iam::123456789012:role/portal-api-rotation',
      taskDefinition: 'portal-api-rotate',
    });
  });

  it('needs the user', () => {
    expect(() => parseTriggerArgs(['--cluster', 'c', '--service', 's', '--role', 'ADM'])).toThrow(
      /--email is required/,
    );
  });
});
