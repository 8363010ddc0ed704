import { EventEmitter } from 'node:events';
import { abortOnSignals } from './signals';

/** A stand-in for process: emits signals to its handlers, records exit(). */
function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const proc = {
    on: (event: string, fn: () => void) => emitter.on(event, fn),
    off: (event: string, fn: () => void) => emitter.off(event, fn),
    exit: (code?: number) => {
      exits.push(code ?? 0);
    },
  };
  return { emitter, exits, proc: proc as unknown as Parameters<typeof abortOnSignals>[2] };
}

describe('SIGINT / SIGTERM handling of the tools', () => {
  it('the first signal aborts the run with its name, a second one leaves at once', () => {
    const { emitter, exits, proc } = fakeProcess();
    const controller = new AbortController();
    const notes: string[] = [];
    const remove = abortOnSignals(controller, (l) => notes.push(l), proc);

    emitter.emit('SIGINT');
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe('SIGINT');
    expect(exits).toEqual([]);

    emitter.emit('SIGTERM');
    expect(exits).toEqual([143]);
    expect(notes).toEqual([
      'SIGINT: stopping what this run started (send it again to leave at once)',
      'SIGTERM again: leaving now',
    ]);

    remove();
    expect(emitter.listenerCount('SIGINT') + emitter.listenerCount('SIGTERM')).toBe(0);
  });
});
