import autocannon from 'autocannon';
import type { IncomingHttpHeaders } from 'node:http';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: IncomingHttpHeaders;
  body?: string;
}

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  /** Each connection cycles through these (prebuilt: no per-request work in the client). */
  requests: LoadRequest[];
  connections: number;
  durationS: number;
  /** Hard cap on the request count, whatever the duration. */
  maxRequests?: number;
}

export interface LoadResult {
  connections: number;
  durationS: number;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

const DEFAULT_MAX_REQUESTS = 2_000_000;

/** One bounded autocannon run: stops after `durationS` seconds or `maxRequests` requests. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    maxOverallRequests: options.maxRequests ?? DEFAULT_MAX_REQUESTS,
    pipelining: 1,
    timeout: 10,
    requests: options.requests.map((r) => ({
      method: r.method,
      path: r.path,
      headers: r.headers,
      body: r.body,
    })),
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = stat.count ?? 0;
  }
  return {
    connections: options.connections,
    durationS: result.duration,
    requests: result.requests.total,
    reqPerSec: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
  };
}

export function failures(r: LoadResult): number {
  return r.errors + r.non2xx;
}
