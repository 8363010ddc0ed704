import { isIP } from 'node:net';

/** Where a sign-in or refresh comes from, as a session records it. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export const CLIENT_IP_MAX = 64;
export const CLIENT_USER_AGENT_MAX = 512;

/**
 * The request's address (an IP, else null) and User-Agent (control characters made spaces, at most
 * 512 characters), ready to store.
 */
export function clientInfoOf(req: {
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}): ClientInfo {
  const ip = typeof req.ip === 'string' && isIP(req.ip) !== 0 ? req.ip : null;
  const header = req.headers['user-agent'];
  let userAgent: string | null = null;
  if (typeof header === 'string') {
    // eslint-disable-next-line no-control-regex
    const clean = header.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
    userAgent = clean.length > 0 ? [...clean].slice(0, CLIENT_USER_AGENT_MAX).join('') : null;
  }
  return { ip: ip && ip.length <= CLIENT_IP_MAX ? ip : null, userAgent };
}
