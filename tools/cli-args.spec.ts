import { parseDeployArgs } from './deploy-ecs';
import { parseTriggerArgs } from './rotate-password-trigger';
import { ExitCode } from './ecs/common';

const base = [
  '--cluster',
  'portal-dev',
  '--service',
  'portal-api',
  '--image',
  'repo/api@sha256:abc',
];

describe('npm run deploy arguments', () => {
  it('parses the documented options with defaults', () => {
    expect(parseDeployArgs(base)).toEqual({
      cluster: 'portal-dev',
      service: 'portal-api',
      image: 'repo/api@sha256:abc',
      container: undefined,
      timeoutSeconds: 900,
      dryRun: false,
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
      ]),
    ).toMatchObject({ container: 'app', timeoutSeconds: 1200, dryRun: true, region: 'sa-east-1' });
    expect(parseDeployArgs(['--help'])).toBe('help');
  });

  it.each([
    [['--service', 'a', '--image', 'i'], /--cluster is required/],
    [['--cluster', 'c', '--image', 'i'], /--service is required/],
    [['--cluster', 'c', '--service', 's'], /--image is required/],
    [[...base, '--timeout', '0'], /--timeout must be a positive whole number/],
    [[...base, '--timeout', 'soon'], /--timeout must be a positive whole number/],
    [[...base, '--force'], /Unknown option '--force'/],
    [[...base, 'extra'], /positional/],
    [['--cluster', 'c', '--service', 's', '--image', 'a b'], /must not contain spaces/],
  ])('%j is a usage error (exit 2)', (argv, message) => {
    expect(() => parseDeployArgs(argv)).toThrow(message);
    try {
      parseDeployArgs(argv);
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(ExitCode.USAGE);
    }
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
      timeoutSeconds: 600,
      region: undefined,
    });
  });

  it('needs the user', () => {
    expect(() => parseTriggerArgs(['--cluster', 'c', '--service', 's', '--role', 'ADM'])).toThrow(
      /--email is required/,
    );
  });
});
