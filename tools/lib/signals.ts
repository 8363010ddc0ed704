import { interruptedCode, StopSignal } from '../ecs/common';

type SignalSource = Pick<NodeJS.Process, 'on' | 'off' | 'exit'>;

/**
 * On the first SIGINT or SIGTERM, aborts controller with the signal's name: the run stops the
 * one-off task it started and ends with 130 (SIGINT) or 143 (SIGTERM). A second signal ends
 * the process at once with that code. Returns a function that removes the handlers.
 */
export function abortOnSignals(
  controller: AbortController,
  note: (line: string) => void,
  proc: SignalSource = process,
): () => void {
  const handlers = (['SIGINT', 'SIGTERM'] as StopSignal[]).map((signal) => {
    const handler = () => {
      if (controller.signal.aborted) {
        note(`${signal} again: leaving now`);
        proc.exit(interruptedCode(signal));
        return;
      }
      note(`${signal}: stopping what this run started (send it again to leave at once)`);
      controller.abort(signal);
    };
    proc.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) proc.off(signal, handler);
  };
}
