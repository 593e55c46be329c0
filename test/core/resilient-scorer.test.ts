import { describe, expect, it } from 'vitest';
import {
  InferenceFailure,
  type InferenceClient,
  type InferenceResult,
  type ScoringWindow,
} from '../../core/inference/ports.ts';
import { ResilientScorer } from '../../core/inference/resilient-scorer.ts';

const WINDOW: ScoringWindow = { sensors: ['a'], rows: [[1]], scoreFrom: 0 };
const RESULT: InferenceResult = {
  modelVersion: 'm1',
  threshold: 10,
  results: [{ index: 0, score: 1, anomalous: false, warm: true, contributors: [] }],
};

/**
 * Virtual time: a sleep ends on the next macrotask and only then moves the clock, unless its
 * signal aborts first, so a call that answers at once wins its timeout race, as with real timers.
 */
function virtualTime() {
  let now = 0;
  return {
    clock: { now: () => now },
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        setTimeout(() => {
          if (signal?.aborted) {
            reject(new Error('aborted'));
            return;
          }
          now += ms;
          resolve();
        }, 0);
      }),
    advance: (ms: number) => (now += ms),
  };
}

/** A client that plays a script of answers: a result, a failure, or 'hang' (never answers). */
function scripted(...script: (InferenceResult | InferenceFailure | 'hang')[]) {
  const calls: number[] = [];
  const client: InferenceClient = {
    invoke: () => {
      calls.push(calls.length);
      const next = script.shift() ?? RESULT;
      if (next === 'hang') return new Promise<InferenceResult>(() => undefined);
      return next instanceof InferenceFailure ? Promise.reject(next) : Promise.resolve(next);
    },
  };
  return { client, calls };
}

describe('ResilientScorer', () => {
  it('returns the result and its latency', async () => {
    const time = virtualTime();
    const { client } = scripted(RESULT);
    const outcome = await new ResilientScorer(client, time.clock, time.sleep).score(WINDOW);
    expect(outcome).toEqual({ status: 'scored', result: RESULT, latencyMs: 0, attempts: 1 });
  });

  it('retries a retryable failure with backoff and succeeds', async () => {
    const time = virtualTime();
    const { client, calls } = scripted(
      new InferenceFailure('throttled', true),
      new InferenceFailure('503', true),
      RESULT,
    );
    const outcome = await new ResilientScorer(client, time.clock, time.sleep, { backoffMs: 50 }).score(
      WINDOW,
    );
    expect(outcome).toMatchObject({ status: 'scored', attempts: 3 });
    expect(calls).toHaveLength(3);
    expect(time.clock.now()).toBe(150);
  });

  it('does not retry a request the model refuses, and skips with the reason', async () => {
    const time = virtualTime();
    const { client, calls } = scripted(new InferenceFailure('readings lack sensor "b"', false));
    const outcome = await new ResilientScorer(client, time.clock, time.sleep).score(WINDOW);
    expect(outcome).toEqual({ status: 'skipped', reason: 'readings lack sensor "b"', attempts: 1 });
    expect(calls).toHaveLength(1);
  });

  it('gives up on a hanging endpoint after the timeout of each attempt', async () => {
    const time = virtualTime();
    const { client } = scripted('hang', 'hang');
    const outcome = await new ResilientScorer(client, time.clock, time.sleep, {
      timeoutMs: 200,
      maxAttempts: 2,
      backoffMs: 10,
    }).score(WINDOW);
    expect(outcome).toEqual({ status: 'skipped', reason: 'no answer within 200 ms', attempts: 2 });
  });

  it('opens the circuit after consecutive failed windows, skips without calling, then tries once and closes', async () => {
    const time = virtualTime();
    const failures = Array.from({ length: 4 }, () => new InferenceFailure('down', true));
    const { client, calls } = scripted(...failures, RESULT);
    const scorer = new ResilientScorer(client, time.clock, time.sleep, {
      failureThreshold: 4,
      maxAttempts: 1,
      openMs: 30_000,
    });
    for (let i = 0; i < 4; i++) await scorer.score(WINDOW);
    expect(scorer.circuit).toBe('open');

    const skipped = await scorer.score(WINDOW);
    expect(skipped).toMatchObject({
      status: 'skipped',
      attempts: 0,
      reason: expect.stringContaining('circuit open after 4 failed windows') as unknown,
    });
    expect(calls).toHaveLength(4);

    time.advance(30_000);
    expect(scorer.circuit).toBe('half-open');
    expect(await scorer.score(WINDOW)).toMatchObject({ status: 'scored' });
    expect(scorer.circuit).toBe('closed');
  });

  it('reopens at once when the half-open trial fails, with a single attempt', async () => {
    const time = virtualTime();
    const { client, calls } = scripted(
      ...Array.from({ length: 3 }, () => new InferenceFailure('down', true)),
      new InferenceFailure('still down', true),
    );
    const scorer = new ResilientScorer(client, time.clock, time.sleep, {
      failureThreshold: 1,
      maxAttempts: 3,
      backoffMs: 1,
      openMs: 1000,
    });
    await scorer.score(WINDOW);
    time.advance(1000);
    expect(await scorer.score(WINDOW)).toMatchObject({
      status: 'skipped',
      attempts: 1,
      reason: 'still down',
    });
    expect(calls).toHaveLength(4);
    expect(scorer.circuit).toBe('open');
  });

  it('keeps the circuit closed for the fleet when requests are refused (4xx), however many', async () => {
    // GIVEN one device whose windows the model refuses, every time
    const time = virtualTime();
    const refused = Array.from({ length: 20 }, () => new InferenceFailure('readings lack sensor "b"', false));
    const { client, calls } = scripted(...refused, RESULT);
    const scorer = new ResilientScorer(client, time.clock, time.sleep, { failureThreshold: 3 });
    // WHEN it sends twenty of them
    for (let i = 0; i < 20; i++) await scorer.score(WINDOW);
    // THEN the next device's window is still scored: the endpoint never said it was unhealthy
    expect(scorer.circuit).toBe('closed');
    expect(await scorer.score(WINDOW)).toMatchObject({ status: 'scored' });
    expect(calls).toHaveLength(21);
  });

  it('does not let refused requests in between reset the count of endpoint failures', async () => {
    const time = virtualTime();
    const down = () => new InferenceFailure('503', true);
    const refused = () => new InferenceFailure('bad window', false);
    const { client } = scripted(down(), refused(), down(), refused(), down());
    const scorer = new ResilientScorer(client, time.clock, time.sleep, {
      failureThreshold: 3,
      maxAttempts: 1,
    });
    for (let i = 0; i < 5; i++) await scorer.score(WINDOW);
    expect(scorer.circuit).toBe('open');
  });

  it('counts an answer of the wrong shape against the endpoint: an incompatible model fails every device', async () => {
    const time = virtualTime();
    const wrongShape = () => new InferenceFailure('unexpected body', false, { endpointUnhealthy: true });
    const { client } = scripted(wrongShape(), wrongShape());
    const scorer = new ResilientScorer(client, time.clock, time.sleep, { failureThreshold: 2 });
    await scorer.score(WINDOW);
    await scorer.score(WINDOW);
    expect(scorer.circuit).toBe('open');
  });

  it('counts an error that is not an InferenceFailure against the endpoint, without retrying it', async () => {
    const time = virtualTime();
    let calls = 0;
    const client: InferenceClient = {
      invoke: () => {
        calls += 1;
        return Promise.reject(new TypeError('adapter bug'));
      },
    };
    const scorer = new ResilientScorer(client, time.clock, time.sleep, { failureThreshold: 1 });
    expect(await scorer.score(WINDOW)).toEqual({
      status: 'skipped',
      reason: 'TypeError: adapter bug',
      attempts: 1,
    });
    expect(calls).toBe(1);
    expect(scorer.circuit).toBe('open');
  });

  it('refuses settings that would never call the model', () => {
    const time = virtualTime();
    expect(() => new ResilientScorer(scripted().client, time.clock, time.sleep, { maxAttempts: 0 })).toThrow(
      'maxAttempts must be a positive integer, got 0',
    );
  });
});
