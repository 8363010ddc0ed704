import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NEW_IMAGE,
  service,
  task,
  taskArn,
  taskDefinition,
  taskId,
  tdArn,
} from '../test/utils/ecs-fakes';
import { awsFault, FakeAws, startFakeAws } from '../test/utils/fake-aws-server';
import { ExitCode } from './ecs/common';

const ROOT = join(__dirname, '..');
const MIGRATION = taskId('sig');

/**
 * The deploy CLI as a real process against an ECS and CloudWatch Logs endpoint on loopback
 * (AWS_ENDPOINT_URL): real signals, real exit codes, real stdout and GitHub Actions files.
 */
describe('npm run deploy, the process', () => {
  let aws: FakeAws;
  let dir: string;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-cli-'));
    const pending = task(MIGRATION, {
      lastStatus: 'PENDING',
      desiredStatus: 'RUNNING',
      startedAt: undefined,
      stoppedAt: undefined,
      stoppingAt: undefined,
      stopCode: undefined,
      stoppedReason: undefined,
    });
    aws = await startFakeAws({
      DescribeServices: () => ({ services: [service()], failures: [] }),
      DescribeTaskDefinition: () => ({ taskDefinition: taskDefinition(41), tags: [] }),
      RegisterTaskDefinition: () => ({ taskDefinition: taskDefinition(42, NEW_IMAGE) }),
      RunTask: () => ({ tasks: [pending], failures: [] }),
      DescribeTasks: () => ({ tasks: [pending], failures: [] }),
      StopTask: () => ({ task: { ...pending, desiredStatus: 'STOPPED' } }),
      TagResource: () => ({}),
      DeregisterTaskDefinition: () => ({ taskDefinition: taskDefinition(42, NEW_IMAGE) }),
      GetLogEvents: () => {
        throw awsFault('ResourceNotFoundException', 'The specified log stream does not exist.');
      },
    });
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await aws.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(args: string[]) {
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !k.startsWith('AWS_') && !k.startsWith('GITHUB_'),
      ),
    );
    const proc = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'tools/deploy-ecs.ts', ...args],
      {
        cwd: ROOT,
        env: {
          ...env,
          AWS_ENDPOINT_URL: aws.endpoint,
          AWS_REGION: 'sa-east-1',
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG',
          AWS_EC2_METADATA_DISABLED: 'true',
          GITHUB_ACTIONS: 'true',
          GITHUB_OUTPUT: join(dir, 'output'),
          GITHUB_STEP_SUMMARY: join(dir, 'summary'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      proc.on('exit', (code) => resolve({ code, stdout, stderr })),
    );
    child = proc;
    return { proc, exited };
  }

  it('on SIGTERM stops the migration task it started, reports it and exits 143', async () => {
    const { proc, exited } = start([
      '--cluster',
      'portal-dev',
      '--service',
      'portal-api',
      '--image',
      NEW_IMAGE,
      '--output',
      'json',
    ]);
    // The job is cancelled while the migration task waits for capacity.
    await aws.waitFor('DescribeTasks');
    proc.kill('SIGTERM');
    const { code, stdout, stderr } = await exited;

    expect(code).toBe(ExitCode.INTERRUPTED_SIGTERM);
    const stop = aws.calls.find((c) => c.operation === 'StopTask');
    expect(stop?.input).toEqual({
      cluster: 'portal-dev',
      task: taskArn(MIGRATION),
      reason: 'portal-api tool interrupted (SIGTERM)',
    });
    // Never started, now stopped: the revision is marked and deregistered.
    expect(aws.calls.map((c) => c.operation)).toEqual(
      expect.arrayContaining(['TagResource', 'DeregisterTaskDefinition']),
    );
    expect(aws.calls.map((c) => c.operation)).not.toContain('UpdateService');

    // stdout is exactly the one JSON object; the progress went to stderr.
    expect(JSON.parse(stdout)).toEqual({
      outcome: 'interrupted',
      exitCode: 143,
      revisionArn: tdArn(42),
      deploymentId: null,
      migrationTaskArn: taskArn(MIGRATION),
      message: expect.stringMatching(
        /interrupted by SIGTERM while the migration task .* it was stopped/,
      ),
    });
    expect(stderr).toContain('deploy: SIGTERM: stopping what this run started');
    expect(stderr).toContain('2. running the migrations');

    expect(readFileSync(join(dir, 'output'), 'utf8')).toContain(
      `outcome=interrupted\nexit-code=143\nrevision-arn=${tdArn(42)}\n`,
    );
    expect(readFileSync(join(dir, 'summary'), 'utf8')).toContain('| outcome | **interrupted** |');
  }, 60_000);
});
