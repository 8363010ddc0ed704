import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback AWS endpoint for the JSON protocol (awsJson1_1: ECS, CloudWatch Logs): POST / with
 * `X-Amz-Target: <service>.<Operation>` and a JSON body. Real SDK clients (or a spawned CLI,
 * through AWS_ENDPOINT_URL) talk to it over HTTP, so what runs is the SDK's own serializer,
 * deserializer and retries. Handlers answer plain objects (Dates become epoch seconds, as AWS
 * sends them) or throw awsFault(...) for an error answer.
 */
export interface FakeAwsCall {
  operation: string;
  input: Record<string, unknown>;
}

export type FakeAwsHandler = (input: Record<string, unknown>, calls: FakeAwsCall[]) => unknown;

export class AwsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const awsFault = (type: string, message: string, status = 400) =>
  new AwsFault(type, message, status);

function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toWire(v)]),
    );
  }
  return value;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export interface FakeAws {
  endpoint: string;
  calls: FakeAwsCall[];
  /** Resolves once a call of the operation has been answered `count` times in all. */
  waitFor(operation: string, count?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeAws(handlers: Record<string, FakeAwsHandler>): Promise<FakeAws> {
  const calls: FakeAwsCall[] = [];
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.slice(target.lastIndexOf('.') + 1);
      const input = JSON.parse((await body(req)) || '{}') as Record<string, unknown>;
      calls.push({ operation, input });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': `fake-${calls.length}`,
        });
        res.end(JSON.stringify(toWire(payload)));
        for (const w of waiters.splice(0)) w();
      };
      const handler = handlers[operation];
      if (!handler) {
        send(400, { __type: 'UnknownOperationException', message: `${operation} is not faked` });
        return;
      }
      try {
        send(200, await handler(input, calls));
      } catch (err) {
        if (err instanceof AwsFault) send(err.status, { __type: err.type, message: err.message });
        else send(500, { __type: 'ServerException', message: (err as Error).message });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const count = (operation: string) => calls.filter((c) => c.operation === operation).length;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    waitFor: (operation, n = 1) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (count(operation) >= n) resolve();
          else waiters.push(check);
        };
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
