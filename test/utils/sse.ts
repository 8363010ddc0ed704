import { IncomingHttpHeaders, request, type ClientRequest, type IncomingMessage } from 'node:http';

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/**
 * A small Server-Sent Events client for tests (loopback only): parses the stream as the
 * EventSource spec does (field lines, a blank line dispatches) and keeps every event, comment
 * and `retry:` it saw, so a test can wait for one or assert that one never came.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  retry: number | undefined;
  ended = false;
  private buffer = '';
  private current: Partial<SseEvent> & { data?: string } = {};
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly req: ClientRequest,
    readonly res: IncomingMessage,
    readonly body: () => string,
  ) {}

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  get headers(): IncomingHttpHeaders {
    return this.res.headers;
  }

  /** Opens the stream; resolves once the answer's head has arrived (whatever its status). */
  static open(
    port: number,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path,
        headers: { accept: 'text/event-stream', ...headers },
        agent: false,
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const raw: Buffer[] = [];
        const client = new SseClient(req, res, () => Buffer.concat(raw).toString('utf8'));
        res.on('data', (chunk: Buffer) => {
          raw.push(chunk);
          client.feed(chunk.toString('utf8'));
        });
        const finish = () => {
          client.ended = true;
          client.wake();
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
        resolve(client);
      });
      req.end();
    });
  }

  private feed(text: string): void {
    this.buffer += text;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      this.line(line);
    }
    this.wake();
  }

  private line(line: string): void {
    if (line === '') {
      if (this.current.data !== undefined) {
        this.events.push({
          event: this.current.event ?? 'message',
          id: this.current.id,
          data: this.current.data,
        });
      }
      this.current = {};
      return;
    }
    if (line.startsWith(':')) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') this.current.event = value;
    else if (field === 'id') this.current.id = value;
    else if (field === 'retry') this.retry = Number(value);
    else if (field === 'data') {
      this.current.data =
        this.current.data === undefined ? value : `${this.current.data}\n${value}`;
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when `probe` holds (checked after every chunk); rejects after `timeoutMs`. */
  async until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(this.events)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first event of this type (after the `skip` first ones), waiting for it if needed. */
  next(event: string, timeoutMs = 5000, skip = 0): Promise<SseEvent> {
    return this.until(
      `event "${event}"`,
      () => this.events.filter((e) => e.event === event)[skip],
      timeoutMs,
    );
  }

  /** The data of the events of this type, parsed. */
  dataOf<T = Record<string, unknown>>(event: string): T[] {
    return this.events.filter((e) => e.event === event).map((e) => JSON.parse(e.data) as T);
  }

  waitEnded(timeoutMs = 5000): Promise<true> {
    return this.until('the stream to end', () => this.ended || undefined, timeoutMs);
  }

  close(): void {
    this.req.destroy();
    this.res.destroy();
  }
}
