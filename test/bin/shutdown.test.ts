import { describe, expect, it } from 'vitest';
import { ShutdownSignals } from '../../bin/cli/shutdown.ts';

function harness() {
  let now = 0;
  const stops: string[] = [];
  const printed: string[] = [];
  const exits: number[] = [];
  const signals = new ShutdownSignals({
    stop: (why) => stops.push(why),
    atRisk: () => 'The queue keeps 12 messages.',
    print: (line) => printed.push(line),
    exit: (code) => exits.push(code),
    now: () => now,
  });
  return { signals, stops, printed, exits, advance: (ms: number) => (now += ms) };
}

describe('ShutdownSignals', () => {
  it('stops cleanly once on the first Ctrl-C, and takes the copies tsx and the process group relay as the same press', () => {
    const { signals, stops, printed, exits, advance } = harness();
    signals.handle('SIGINT');
    advance(5);
    signals.handle('SIGINT');
    advance(300);
    signals.handle('SIGINT');
    expect(stops).toEqual(['Ctrl-C']);
    expect(printed).toEqual([]);
    expect(exits).toEqual([]);
  });

  it('says what quitting now would leave undone on the second press, and quits on the third', () => {
    const { signals, stops, printed, exits, advance } = harness();
    signals.handle('SIGINT');
    advance(1500);
    signals.handle('SIGINT');
    expect(printed).toEqual([
      '\nCtrl-C again: still stopping cleanly. The queue keeps 12 messages. Press Ctrl-C once more to quit now.',
    ]);
    expect(exits).toEqual([]);
    advance(1500);
    signals.handle('SIGINT');
    expect(exits).toEqual([130]);
    expect(stops).toEqual(['Ctrl-C']);
  });

  it('names SIGTERM as it is', () => {
    const { signals, stops } = harness();
    signals.handle('SIGTERM');
    expect(stops).toEqual(['SIGTERM']);
  });
});
