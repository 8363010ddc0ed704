import { ActiveStatus, Organization } from '../users/user.enums';
import { DEFAULT_SEED_PASSWORD, SEED_USERS } from './mock-users';

/** The address to open in a browser for a server bound to `host`. */
export function localUrl(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

/**
 * What `npm start` prints once it listens with the mock data loaded: where to go and how to
 * sign in. The password is shown only when it is the default one (a SEED_PASSWORD stays out of
 * the console).
 */
export function firstRunBanner(options: {
  url: string;
  docs: boolean;
  customPassword: boolean;
}): string {
  const signIns = SEED_USERS.filter((u) => u.active === ActiveStatus.ACTIVE);
  const width = Math.max(...signIns.map((u) => u.email.length));
  const password = options.customPassword
    ? 'the one in SEED_PASSWORD'
    : `"${DEFAULT_SEED_PASSWORD}"`;
  const lines = [
    '',
    'portal-api is ready (development data on the embedded PostgreSQL)',
    '',
    `  API       ${options.url}`,
    ...(options.docs ? [`  Docs      ${options.url}/docs`] : []),
    `  Sign in   POST ${options.url}/auth/token with one of these, password ${password}:`,
    ...signIns.map(
      (u) =>
        `              ${u.email.padEnd(width)}  ${u.role}${u.organization && u.organization !== Organization.ALL ? ` of ${u.organization}` : ''}`,
    ),
    '',
    '  The mock users and warnings are local data: `npm run seed` loads them again.',
    '',
  ];
  const rule = '-'.repeat(Math.max(...lines.map((l) => l.length)));
  return [rule, ...lines, rule].join('\n') + '\n';
}
