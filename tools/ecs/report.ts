import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { ExitCode, ExitCodeValue } from './common';

export type Outcome =
  | 'deployed'
  | 'planned'
  | 'usage-error'
  | 'error'
  | 'migration-failed'
  | 'deploy-failed'
  | 'smoke-failed'
  | 'rolled-back'
  | 'timed-out'
  | 'out-of-order'
  | 'busy'
  | 'drift'
  | 'interrupted';

/** What a deploy got to; filled in as it goes, so a failed run reports it too. */
export interface DeployProgress {
  revisionArn?: string;
  deploymentId?: string;
  migrationTaskArn?: string;
  /** Set by the run when the exit code alone does not tell (a dry run, a failed smoke check). */
  outcome?: Outcome;
}

/** The one JSON object `--output json` prints, and what GitHub Actions gets. */
export interface DeployReport {
  outcome: Outcome;
  exitCode: number;
  revisionArn: string | null;
  deploymentId: string | null;
  migrationTaskArn: string | null;
  message: string | null;
}

const BY_CODE: Record<number, Outcome> = {
  [ExitCode.OK]: 'deployed',
  [ExitCode.UNEXPECTED]: 'error',
  [ExitCode.USAGE]: 'usage-error',
  [ExitCode.TASK_FAILED]: 'migration-failed',
  [ExitCode.DEPLOY_FAILED]: 'deploy-failed',
  [ExitCode.ROLLED_BACK]: 'rolled-back',
  [ExitCode.TIMED_OUT]: 'timed-out',
  [ExitCode.OUT_OF_ORDER]: 'out-of-order',
  [ExitCode.BUSY]: 'busy',
  [ExitCode.DRIFT]: 'drift',
  [ExitCode.INTERRUPTED_SIGINT]: 'interrupted',
  [ExitCode.INTERRUPTED_SIGTERM]: 'interrupted',
};

export function deployReport(
  progress: DeployProgress,
  exitCode: ExitCodeValue,
  message?: string,
): DeployReport {
  const succeeded = exitCode === ExitCode.OK;
  const told = progress.outcome;
  // The run's own word when it fits the exit code: "planned" (0), "smoke-failed" (4).
  const fits = told !== undefined && (told === 'deployed' || told === 'planned') === succeeded;
  const outcome = fits ? told : (BY_CODE[exitCode] ?? 'error');
  return {
    outcome,
    exitCode,
    revisionArn: progress.revisionArn ?? null,
    deploymentId: progress.deploymentId ?? null,
    migrationTaskArn: progress.migrationTaskArn ?? null,
    message: message ?? null,
  };
}

/** Lines for $GITHUB_OUTPUT; the message (free text) in the multi-line form. */
export function githubOutput(report: DeployReport, delimiter = `EOF_${randomUUID()}`): string {
  const lines = [
    `outcome=${report.outcome}`,
    `exit-code=${report.exitCode}`,
    `revision-arn=${report.revisionArn ?? ''}`,
    `deployment-id=${report.deploymentId ?? ''}`,
    `migration-task-arn=${report.migrationTaskArn ?? ''}`,
    `message<<${delimiter}`,
    report.message ?? '',
    delimiter,
  ];
  return lines.join('\n') + '\n';
}

const cell = (v: string | number | null) =>
  v === null || v === ''
    ? '–'
    : String(v)
        .replace(/\|/g, '\\|')
        .replace(/\s*\n\s*/g, ' ');
const code = (v: string | null) => (v ? `\`${v}\`` : '–');

/** A Markdown table for $GITHUB_STEP_SUMMARY. */
export function stepSummary(report: DeployReport, title: string): string {
  return [
    `### ${title}: ${report.outcome}`,
    '',
    '| | |',
    '| --- | --- |',
    `| outcome | **${report.outcome}** |`,
    `| exit code | ${report.exitCode} |`,
    `| task definition revision | ${code(report.revisionArn)} |`,
    `| deployment | ${code(report.deploymentId)} |`,
    `| migration task | ${code(report.migrationTaskArn)} |`,
    `| message | ${cell(report.message)} |`,
    '',
  ].join('\n');
}

/**
 * Under GitHub Actions (GITHUB_ACTIONS=true), appends the report to $GITHUB_OUTPUT (step
 * outputs) and $GITHUB_STEP_SUMMARY (the run's summary page). Returns the files written.
 */
export function writeGithubActions(
  report: DeployReport,
  title: string,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  if (env.GITHUB_ACTIONS !== 'true') return [];
  const written: string[] = [];
  if (env.GITHUB_OUTPUT) {
    appendFileSync(env.GITHUB_OUTPUT, githubOutput(report));
    written.push(env.GITHUB_OUTPUT);
  }
  if (env.GITHUB_STEP_SUMMARY) {
    appendFileSync(env.GITHUB_STEP_SUMMARY, stepSummary(report, title));
    written.push(env.GITHUB_STEP_SUMMARY);
  }
  return written;
}
