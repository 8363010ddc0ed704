/**
 * Reads one service of docker/docker-compose.yml the way `docker compose` would run it, for
 * scripts/image-check.sh (no compose engine, and no registry for the file's postgres image):
 *
 *   node -r ts-node/register/transpile-only scripts/image-check/compose-service.ts \
 *     SERVICE ENV_FILE [DATABASE_URL]
 *
 * writes the service's environment to ENV_FILE (KEY=VALUE lines, as `podman run --env-file`
 * reads them), with DATABASE_URL replaced when one is given (the check's own database instead
 * of the file's postgres service), and prints a JSON object to stdout: the image, the command
 * (null: the image's CMD) and stop_grace_period in seconds.
 * Variables are interpolated as on a machine where none of them is set: `${X:-default}` and
 * `${X-default}` give the default, `${X}` gives "", `$$` gives "$".
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  command?: string[] | string | null;
  environment?: Record<string, unknown> | string[];
  stop_grace_period?: string;
}

export interface ServiceRun {
  image: string | null;
  command: string[] | null;
  env: Record<string, string>;
  stopGraceSeconds: number;
}

/** Compose interpolation with no variable set: defaults, or the empty string. */
export function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, name?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      if (bare) return '';
      if (op === '-' || op === ':-') return arg ?? '';
      if (op === '?' || op === ':?') {
        throw new Error(`compose: ${name} is required: ${arg ?? ''}`);
      }
      return '';
    },
  );
}

/** "30s", "1m30s", "500ms" -> seconds (compose durations); default 10 s like compose. */
export function durationSeconds(value: string | undefined): number {
  if (!value) return 10;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let m: RegExpExecArray | null;
  let matched = '';
  while ((m = re.exec(value)) !== null) {
    matched += m[0];
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  if (matched !== value.trim()) throw new Error(`compose: bad duration "${value}"`);
  return Math.ceil(total);
}

export function serviceRun(composeText: string, name: string, databaseUrl?: string): ServiceRun {
  const compose = parse(composeText) as { services?: Record<string, ComposeService> };
  const service = compose.services?.[name];
  if (!service) throw new Error(`compose: no service "${name}"`);
  const env: Record<string, string> = {};
  const entries: Array<[string, unknown]> = Array.isArray(service.environment)
    ? service.environment.map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
      })
    : Object.entries(service.environment ?? {});
  for (const [key, value] of entries) {
    if (value !== null && typeof value === 'object')
      throw new Error(`compose: ${key} is not a value`);
    env[key] =
      value === null || value === undefined
        ? ''
        : interpolate(typeof value === 'string' ? value : JSON.stringify(value));
  }
  if (databaseUrl !== undefined && 'DATABASE_URL' in env) env.DATABASE_URL = databaseUrl;
  for (const [key, value] of Object.entries(env)) {
    if (/[\r\n]/.test(value)) throw new Error(`compose: ${key} spans lines`);
  }
  const command =
    service.command === undefined || service.command === null
      ? null
      : Array.isArray(service.command)
        ? service.command.map((c) => interpolate(String(c)))
        : interpolate(service.command).split(/\s+/).filter(Boolean);
  return {
    image: service.image ? interpolate(service.image) : null,
    command,
    env,
    stopGraceSeconds: durationSeconds(service.stop_grace_period),
  };
}

if (require.main === module) {
  const [name, envFile, databaseUrl] = process.argv.slice(2);
  if (!name || !envFile) {
    console.error('usage: compose-service.ts SERVICE ENV_FILE [DATABASE_URL]');
    process.exit(2);
  }
  const text = readFileSync(join(__dirname, '..', '..', 'docker', 'docker-compose.yml'), 'utf8');
  const run = serviceRun(text, name, databaseUrl);
  writeFileSync(
    envFile,
    Object.entries(run.env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );
  console.log(
    JSON.stringify({
      image: run.image,
      command: run.command,
      stopGraceSeconds: run.stopGraceSeconds,
      variables: Object.keys(run.env),
    }),
  );
}
