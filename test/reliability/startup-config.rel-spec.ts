import { spawn } from 'node:child_process';
import { assertBuilt, MAIN_JS, ROOT } from './support/app-process';

/** `node dist/src/main.js` with this environment only; resolves with its exit code and output. */
function start(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  assertBuilt();
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [MAIN_JS], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('start-up configuration of Microsoft sign-in', () => {
  it('in production, a client id without tenants and email domains stops the process (78)', async () => {
    const { code, output } = await start({
      NODE_ENV: 'production',
      // Never reached: the configuration is refused before any connection.
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      JWT_SECRET: 'x'.repeat(48),
      MICROSOFT_CLIENT_ID: '0b6e7c0a-3f8e-4c1a-9d4e-5a1b2c3d4e5f',
    });
    expect(code).toBe(78);
    expect(output).toContain('MICROSOFT_TENANT_IDS is required in production');
    expect(output).toContain('ALLOWED_EMAIL_DOMAINS is required in production');
  });

  it('a tenant list that is not tenant ids stops the process (78), in any environment', async () => {
    const { code, output } = await start({
      NODE_ENV: 'development',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      MICROSOFT_CLIENT_ID: '0b6e7c0a-3f8e-4c1a-9d4e-5a1b2c3d4e5f',
      MICROSOFT_TENANT_IDS: 'common',
    });
    expect(code).toBe(78);
    expect(output).toContain('MICROSOFT_TENANT_IDS must be a comma-separated list of tenant ids');
  });
});
