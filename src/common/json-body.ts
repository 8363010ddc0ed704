import type { FastifyInstance } from 'fastify';
import { AppError } from './errors/app-error';

/** Far deeper than any body this API accepts (the deepest DTO nests two levels). */
export const MAX_JSON_DEPTH = 32;

/**
 * True when the JSON text nests objects/arrays deeper than `max` (strings are skipped, so
 * brackets inside them do not count). One pass, no allocation: cheap next to JSON.parse.
 */
export function jsonNestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/**
 * The application/json body parser: fastify's own (prototype poisoning refused), after a
 * nesting check. The ValidationPipe (class-transformer) recurses once per level, so a
 * 5,000-deep body of 25 KB used to overflow the stack and answer 500.
 */
export function createJsonBodyParser(fastify: FastifyInstance) {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  return (
    req: Parameters<typeof parse>[0],
    body: Buffer,
    done: (err: Error | null, value?: unknown) => void,
  ): void => {
    const text = body.toString('utf8');
    if (jsonNestingExceeds(text, MAX_JSON_DEPTH)) {
      done(
        AppError.badRequest(
          `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`,
          undefined,
          'body_too_deep',
        ),
      );
      return;
    }
    void parse(req, text, done);
  };
}
