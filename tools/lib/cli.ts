/** Argument parsing and exit handling for the CLIs in tools/ (no AWS imports: the image runs
 * rotate-password with production dependencies only). */
import { parseArgs, ParseArgsConfig } from 'node:util';
import { ExitCode, ToolError } from '../ecs/common';

export class UsageError extends ToolError {
  constructor(message: string) {
    super(ExitCode.USAGE, message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict: an unknown or malformed option is a UsageError. */
export function parseOptions<T extends Options>(
  argv: string[],
  options: T,
): Record<keyof T, string | boolean | undefined> {
  try {
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    return values as unknown as Record<keyof T, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} is required`);
  return v.trim();
}

export function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`--${name} must be a positive whole number of seconds`);
  }
  return Number(value);
}

/**
 * Runs a CLI's main and sets the exit code: ToolError's own, 1 for anything else (an AWS
 * error is printed by name and message, which never hold secret values).
 */
export function runCli(name: string, usage: string, main: () => Promise<void>): void {
  main().then(
    () => {
      process.exitCode = ExitCode.OK;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`${name}: ${err.message}\n\n${usage}`);
        process.exitCode = err.exitCode;
      } else if (err instanceof ToolError) {
        console.error(`${name}: ${err.message}`);
        process.exitCode = err.exitCode;
      } else {
        const e = err as Error;
        console.error(`${name}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`);
        process.exitCode = ExitCode.UNEXPECTED;
      }
    },
  );
}
