/** Argument parsing and exit handling for the CLIs in tools/ (no AWS imports: the image runs
 * rotate-password with production dependencies only). */
import { parseArgs, ParseArgsConfig } from 'node:util';
import { ExitCode, ExitCodeValue, ToolError } from '../ecs/common';

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

/** An optional string option, trimmed; an empty value is a usage error, not "unset". */
export function optionalString(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} must not be empty`);
  return v.trim();
}

export function positiveInt(
  value: unknown,
  name: string,
  fallback: number,
  unit = 'seconds',
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`--${name} must be a positive whole number of ${unit}`);
  }
  return Number(value);
}

export interface StrategyItem {
  capacityProvider: string;
  weight: number;
  base: number;
}

/**
 * --capacity-provider-strategy NAME[:WEIGHT[:BASE]][,NAME...], e.g. "FARGATE:1:1,FARGATE_SPOT:3".
 * Weight defaults to 1, base to 0 (as in the ECS API).
 */
export function capacityProviderStrategy(value: string): StrategyItem[] {
  const items = value.split(',').map((part) => {
    const m = /^([A-Za-z0-9_-]{1,255})(?::(\d{1,4}))?(?::(\d{1,6}))?$/.exec(part.trim());
    if (!m) {
      throw new UsageError(
        `--capacity-provider-strategy: "${part}" is not NAME[:WEIGHT[:BASE]] (e.g. FARGATE:1:1,FARGATE_SPOT:3)`,
      );
    }
    return { capacityProvider: m[1], weight: Number(m[2] ?? 1), base: Number(m[3] ?? 0) };
  });
  if (items.filter((i) => i.base > 0).length > 1) {
    throw new UsageError('--capacity-provider-strategy: only one provider may have a base');
  }
  if (new Set(items.map((i) => i.capacityProvider)).size !== items.length) {
    throw new UsageError('--capacity-provider-strategy names a provider twice');
  }
  return items;
}

/** An IAM role ARN (--task-role-arn). */
export function roleArn(value: string, name: string): string {
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(value)) {
    throw new UsageError(`--${name} must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`);
  }
  return value;
}

export interface CliEnd {
  code: ExitCodeValue;
  /** The error message, when it failed. */
  message?: string;
}

/**
 * Runs a CLI's main and sets the exit code: ToolError's own, 1 for anything else (an AWS
 * error is printed by name and message, which never hold secret values). finish, when given,
 * runs last with the outcome (machine-readable reports).
 */
export function runCli(
  name: string,
  usage: string,
  main: () => Promise<void>,
  finish?: (end: CliEnd) => void,
): void {
  const end = (e: CliEnd) => {
    try {
      finish?.(e);
    } finally {
      process.exitCode = e.code;
    }
  };
  main().then(
    () => end({ code: ExitCode.OK }),
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`${name}: ${err.message}\n\n${usage}`);
        end({ code: err.exitCode, message: err.message });
      } else if (err instanceof ToolError) {
        console.error(`${name}: ${err.message}`);
        end({ code: err.exitCode, message: err.message });
      } else {
        const e = err as Error;
        const message = `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
        console.error(`${name}: ${message}`);
        end({ code: ExitCode.UNEXPECTED, message });
      }
    },
  );
}
