import type { Readable } from 'node:stream';

type Handler = (args: unknown) => Promise<unknown>;
type AddMiddleware = (
  middleware: (next: Handler) => Handler,
  options: { step: 'deserialize'; priority: 'low'; name: string },
) => void;

/** Any SDK command: it has its own middleware stack. */
interface WithMiddlewareStack {
  middlewareStack: { add: (...args: never[]) => void };
}

function isReadable(body: unknown): body is Readable {
  return (
    !!body &&
    typeof body === 'object' &&
    typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/**
 * Hands the JSON body of the command's response to sink before the SDK parses it. The SDK's
 * deserializer keeps only the members its model knows, so the raw body is the only place a
 * field newer than the installed SDK can be seen. The body is read once and handed on to the
 * deserializer as bytes. Nothing happens when send() never reaches the HTTP layer (the tests'
 * aws-sdk-client-mock).
 */
export function captureRawJson(command: WithMiddlewareStack, sink: (json: unknown) => void): void {
  const add = command.middlewareStack.add.bind(command.middlewareStack) as unknown as AddMiddleware;
  add(
    (next) => async (args) => {
      const result = (await next(args)) as { response?: { body?: unknown } };
      const response = result.response;
      if (response && isReadable(response.body)) {
        const chunks: Buffer[] = [];
        for await (const chunk of response.body) chunks.push(Buffer.from(chunk as Uint8Array));
        const bytes = Buffer.concat(chunks);
        response.body = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        try {
          sink(JSON.parse(bytes.toString('utf8')));
        } catch {
          // Not JSON (an HTML error page): the deserializer reports it.
        }
      }
      return result;
    },
    // Low priority in the deserialize step runs inside the SDK's deserializer: first to see the
    // HTTP response.
    { step: 'deserialize', priority: 'low', name: 'portalApiRawJsonCapture' },
  );
}
