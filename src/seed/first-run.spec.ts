import { firstRunBanner, localUrl } from './first-run';

describe('first-run block', () => {
  it('names a browsable address', () => {
    expect(localUrl('0.0.0.0', 3000)).toBe('http://localhost:3000');
    expect(localUrl('::', 3000)).toBe('http://localhost:3000');
    expect(localUrl('127.0.0.1', 3107)).toBe('http://127.0.0.1:3107');
    expect(localUrl('::1', 3107)).toBe('http://[::1]:3107');
  });

  it('shows the URL, /docs and the active mock sign-ins with the default password', () => {
    const text = firstRunBanner({
      url: 'http://localhost:3000',
      docs: true,
      customPassword: false,
    });
    expect(text).toContain('API       http://localhost:3000\n');
    expect(text).toContain('Docs      http://localhost:3000/docs\n');
    expect(text).toContain('password "portal-dev-password"');
    expect(text).toMatch(/admin@example\.com +ADM\n/);
    expect(text).toMatch(/user\.nawat@example\.com +USER of NAWAT\n/);
    expect(text).not.toContain('disconnected@example.com');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^-+$/);
    expect(lines[lines.length - 1]).toBe(lines[0]);
  });

  it('keeps a SEED_PASSWORD out of the console, and /docs out when the docs are off', () => {
    const text = firstRunBanner({
      url: 'http://localhost:3000',
      docs: false,
      customPassword: true,
    });
    expect(text).toContain('password the one in SEED_PASSWORD');
    expect(text).not.toContain('portal-dev-password');
    expect(text).not.toContain('/docs');
  });
});
