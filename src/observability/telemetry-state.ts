import type { Tracing } from './tracing';

/**
 * The process's tracing, when it was started (src/observability/preload.ts, or a test). A
 * plain module with no OpenTelemetry import, so logging and the HTTP hooks can ask "is tracing
 * on?" without loading any of it.
 */
let current: Tracing | undefined;

export function activeTracing(): Tracing | undefined {
  return current;
}

export function setActiveTracing(tracing: Tracing | undefined): void {
  current = tracing;
}
