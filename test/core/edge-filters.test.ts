import { describe, expect, it } from 'vitest';
import { DeadbandFilter, HampelFilter, RateOfChangeFilter } from '../../core/edge/filters.ts';
import { gaussian, seededRandom } from '../../core/simulation/pump-simulator.ts';

describe('DeadbandFilter', () => {
  it('sends a reading that moved by the band, and a heartbeat after the silence limit', () => {
    const filter = new DeadbandFilter(0.5, 10_000);
    const actions = [
      [0, 20],
      [1000, 20.2],
      [2000, 20.6],
      [3000, 20.7],
      [13_000, 20.7],
    ].map(([t, v]) => filter.decide(t ?? 0, v ?? 0).action);
    expect(actions).toEqual(['send', 'suppress', 'send', 'suppress', 'send']);
  });
});

describe('RateOfChangeFilter', () => {
  it('refuses a jump faster than physics allows, and keeps judging from the last good reading', () => {
    const filter = new RateOfChangeFilter(2);
    expect(filter.decide(0, 70).action).toBe('send');
    const jump = filter.decide(1000, 90);
    expect(jump).toEqual({ action: 'suppress', reason: 'changes 20.000/s, above 2/s' });
    expect(filter.decide(2000, 71.5).action).toBe('send');
  });
});

describe('HampelFilter', () => {
  const noise = (seed: number) => {
    const random = seededRandom(seed);
    return () => 32 + 0.3 * gaussian(random);
  };

  it('flags an isolated spike and passes clean noise', () => {
    const next = noise(1);
    const filter = new HampelFilter(15, 4, 'flag');
    const decisions = Array.from({ length: 200 }, (_, i) => filter.decide(i, i === 120 ? 60 : next()));
    expect(decisions.filter((d) => d.action === 'suppress')).toHaveLength(1);
    expect(decisions[120]).toMatchObject({
      action: 'suppress',
      reason: expect.stringMatching(/^spike: 60 is \d+\.\d MADs from 3\d\./) as unknown,
    });
  });

  it('replaces a spike by the window median in replace mode', () => {
    const next = noise(2);
    const filter = new HampelFilter(15, 4, 'replace');
    for (let i = 0; i < 30; i++) filter.decide(i, next());
    const replaced = filter.decide(30, 500);
    expect(replaced.action).toBe('send');
    expect(replaced.action === 'send' ? replaced.value : 0).toBeCloseTo(32, 0);
  });

  it('follows a real step instead of flagging it forever', () => {
    const next = noise(3);
    const filter = new HampelFilter(15, 4, 'flag');
    const decisions = Array.from({ length: 100 }, (_, i) => filter.decide(i, next() + (i >= 50 ? 10 : 0)));
    // The first readings after the step look like spikes; once they are the majority of the window they are the new normal.
    const afterStep = decisions.slice(50).map((d) => d.action);
    const firstSent = afterStep.indexOf('send');
    expect(firstSent).toBeGreaterThan(0);
    expect(firstSent).toBeLessThanOrEqual(8);
    expect(afterStep.slice(firstSent).every((action) => action === 'send')).toBe(true);
  });
});
