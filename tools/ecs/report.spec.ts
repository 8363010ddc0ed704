import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEP, taskArn, tdArn } from '../../test/utils/ecs-fakes';
import { ExitCode } from './common';
import { deployReport, githubOutput, stepSummary, writeGithubActions } from './report';

const progress = {
  revisionArn: tdArn(42),
  deploymentId: DEP.ours,
  migrationTaskArn: taskArn('0123456789abcdef0123456789abcdef'),
};

describe('the deploy result, for machines', () => {
  it('is one object with the revision, the deployment, the migration task, the outcome and the code', () => {
    expect(deployReport({ ...progress, outcome: 'deployed' }, ExitCode.OK)).toEqual({
      outcome: 'deployed',
      exitCode: 0,
      revisionArn: tdArn(42),
      deploymentId: DEP.ours,
      migrationTaskArn: taskArn('0123456789abcdef0123456789abcdef'),
      message: null,
    });
    expect(deployReport({}, ExitCode.OUT_OF_ORDER, 'commit x is not...')).toEqual({
      outcome: 'out-of-order',
      exitCode: 7,
      revisionArn: null,
      deploymentId: null,
      migrationTaskArn: null,
      message: 'commit x is not...',
    });
  });

  it.each([
    [ExitCode.UNEXPECTED, 'error'],
    [ExitCode.USAGE, 'usage-error'],
    [ExitCode.TASK_FAILED, 'migration-failed'],
    [ExitCode.DEPLOY_FAILED, 'deploy-failed'],
    [ExitCode.ROLLED_BACK, 'rolled-back'],
    [ExitCode.TIMED_OUT, 'timed-out'],
    [ExitCode.BUSY, 'busy'],
    [ExitCode.DRIFT, 'drift'],
    [ExitCode.INTERRUPTED_SIGINT, 'interrupted'],
    [ExitCode.INTERRUPTED_SIGTERM, 'interrupted'],
  ] as const)('exit code %i is the outcome %s', (code, outcome) => {
    expect(deployReport({}, code).outcome).toBe(outcome);
  });

  it('keeps the run word when it fits the exit code: planned, smoke-failed', () => {
    expect(deployReport({ outcome: 'planned' }, ExitCode.OK).outcome).toBe('planned');
    expect(deployReport({ outcome: 'smoke-failed' }, ExitCode.DEPLOY_FAILED).outcome).toBe(
      'smoke-failed',
    );
    // A run that said "deployed" and then failed (its report went out later) is a failure.
    expect(deployReport({ outcome: 'deployed' }, ExitCode.UNEXPECTED).outcome).toBe('error');
  });

  it('writes GitHub step outputs, the message in the multi-line form', () => {
    const report = deployReport(progress, ExitCode.ROLLED_BACK, 'rolled back:\nsee the log');
    expect(githubOutput(report, 'EOF_x')).toBe(
      [
        'outcome=rolled-back',
        'exit-code=5',
        `revision-arn=${tdArn(42)}`,
        `deployment-id=${DEP.ours}`,
        `migration-task-arn=${progress.migrationTaskArn}`,
        'message<<EOF_x',
        'rolled back:',
        'see the log',
        'EOF_x',
        '',
      ].join('\n'),
    );
  });

  it('writes a Markdown table for the step summary, cells escaped', () => {
    const summary = stepSummary(
      deployReport({ revisionArn: tdArn(42) }, ExitCode.DEPLOY_FAILED, 'a | b\nc'),
      'portal-api deploy',
    );
    expect(summary.split('\n')).toEqual([
      '### portal-api deploy: deploy-failed',
      '',
      '| | |',
      '| --- | --- |',
      '| outcome | **deploy-failed** |',
      '| exit code | 4 |',
      `| task definition revision | \`${tdArn(42)}\` |`,
      '| deployment | – |',
      '| migration task | – |',
      '| message | a \\| b c |',
      '',
    ]);
  });

  it('appends to $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY only under GitHub Actions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gha-'));
    try {
      const out = join(dir, 'output');
      const summary = join(dir, 'summary');
      writeFileSync(out, 'earlier=1\n');
      const report = deployReport(progress, ExitCode.OK);
      const env = { GITHUB_OUTPUT: out, GITHUB_STEP_SUMMARY: summary };
      expect(writeGithubActions(report, 'deploy', env)).toEqual([]);
      expect(writeGithubActions(report, 'deploy', { ...env, GITHUB_ACTIONS: 'true' })).toEqual([
        out,
        summary,
      ]);
      expect(readFileSync(out, 'utf8')).toMatch(/^earlier=1\noutcome=deployed\nexit-code=0\n/);
      expect(readFileSync(summary, 'utf8')).toContain('| outcome | **deployed** |');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
