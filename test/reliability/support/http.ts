import { Agent, IncomingHttpHeaders, request } from 'node:http';

export interface RequestSpec {
  method?: string;
  /** Sent as is (already percent-encoded): the fuzzer wants to control every byte. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  /** A keep-alive agent for load; by default a new connection per request. */
  agent?: Agent;
}

export interface HttpResult {
  method: string;
  path: string;
  /** 0 when no HTTP answer came (see `error`). */
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** ECONNREFUSED, ECONNRESET, TIMEOUT, ... when no complete answer came. */
  error?: string;
  /** Milliseconds since the epoch when the request was sent, and how long it took. */
  startedAt: number;
  ms: number;
}

const HOST = '127.0.0.1'; // loopback only

/** One HTTP request to the app under test. Never rejects: failures come back as `error`. */
export function httpRequest(port: number, spec: RequestSpec): Promise<HttpResult> {
  const method = spec.method ?? 'GET';
  const startedAt = Date.now();
  const timeoutMs = spec.timeoutMs ?? 15_000;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<HttpResult, 'method' | 'path' | 'startedAt' | 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ method, path: spec.path, startedAt, ms: Date.now() - startedAt, ...r });
    };
    const headers: Record<string, string | number> = { ...spec.headers };
    if (spec.body !== undefined) headers['content-length'] = Buffer.byteLength(spec.body);
    let req: ReturnType<typeof request>;
    try {
      req = request({
        host: HOST,
        port,
        method,
        path: spec.path,
        headers,
        agent: spec.agent ?? false,
      });
    } catch (err) {
      // The client itself refused the request (an illegal header or path): not the server's fault.
      const e = err as NodeJS.ErrnoException;
      resolve({
        method,
        path: spec.path,
        startedAt,
        ms: 0,
        status: -1,
        headers: {},
        text: '',
        error: e.code ?? e.message,
      });
      return;
    }
    const timer = setTimeout(() => {
      req.destroy(new Error('TIMEOUT'));
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      done({ status: 0, headers: {}, text: '', error: err.code ?? err.message });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      // An event stream never ends by itself: take what arrives until its `ready` event (or a
      // moment), then hang up, so one request to GET /warnings/stream is one answer.
      if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        const finish = () => {
          clearTimeout(cut);
          done({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
          req.destroy();
        };
        const cut = setTimeout(finish, 1000);
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (Buffer.concat(chunks).includes('event: ready')) finish();
        });
        res.on('error', finish);
        res.on('end', finish);
        return;
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err: NodeJS.ErrnoException) =>
        done({ status: 0, headers: {}, text: '', error: err.code ?? err.message }),
      );
      res.on('end', () =>
        done({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.end(spec.body);
  });
}

export function json(res: HttpResult): unknown {
  try {
    return JSON.parse(res.text);
  } catch {
    return undefined;
  }
}

export interface LoadOptions {
  port: number;
  concurrency: number;
  /** Hard bounds: the load stops at whichever comes first (or when `stop()` returns true). */
  durationMs: number;
  maxRequests: number;
  /** The i-th request to send. */
  next: (i: number) => RequestSpec;
  stop?: () => boolean;
  keepAlive?: boolean;
}

/**
 * A bounded load generator: `concurrency` loops sending requests back to back over keep-alive
 * connections to the loopback address, until the time or the request budget runs out.
 */
export async function runLoad(options: LoadOptions): Promise<HttpResult[]> {
  const agent =
    options.keepAlive === false
      ? undefined
      : new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const results: HttpResult[] = [];
  const deadline = Date.now() + options.durationMs;
  let sent = 0;
  const worker = async () => {
    while (Date.now() < deadline && sent < options.maxRequests && !options.stop?.()) {
      const spec = options.next(sent++);
      results.push(await httpRequest(options.port, { agent, ...spec }));
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent?.destroy();
  }
  return results;
}

/** A count of results by "status" (or error code), for readable failure messages. */
export function tally(results: HttpResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const key = r.error ? `${r.status}:${r.error}` : String(r.status);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
