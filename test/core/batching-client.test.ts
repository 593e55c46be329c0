import { describe, expect, it } from 'vitest';
import { batchRequestBody, type BatchAnswer, type InferenceBatchClient } from '../../core/inference/batch.ts';
import { BatchingInferenceClient } from '../../core/inference/batching-client.ts';
import { InferenceFailure, refusedRequest, type ScoringWindow } from '../../core/inference/ports.ts';
import { failureOf } from '../support/failures.ts';

/** An endpoint that answers each window with its `scoreFrom` as the threshold, refusing negative ones. */
class FakeEndpoint implements InferenceBatchClient {
  readonly calls: number[][] = [];
  failNext: InferenceFailure | undefined;

  invokeBatch(windows: readonly ScoringWindow[]): Promise<BatchAnswer> {
    this.calls.push(windows.map((window) => window.scoreFrom));
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) return Promise.reject(failure);
    return Promise.resolve(
      windows.map((window) =>
        window.scoreFrom < 0
          ? refusedRequest('bad window', 400)
          : { modelVersion: 'v1', threshold: window.scoreFrom, results: [] },
      ),
    );
  }
}

const window = (id: number, rows = 1): ScoringWindow => ({
  sensors: ['a'],
  rows: Array.from({ length: rows }, () => [1]),
  scoreFrom: id,
});
/** Flushes when the test says, so a "turn" is what the test makes it. */
function manualTurns() {
  const flushes: (() => void)[] = [];
  return {
    defer: (flush: () => void) => flushes.push(flush),
    turn: () => {
      for (const flush of flushes.splice(0)) flush();
    },
  };
}

describe('BatchingInferenceClient', () => {
  it('GIVEN 250 windows asked for in one turn THEN three calls of 100, 100 and 50, each caller answered with its own window', async () => {
    const endpoint = new FakeEndpoint();
    const turns = manualTurns();
    const client = new BatchingInferenceClient(endpoint, turns.defer);
    const asked = Array.from({ length: 250 }, (_, id) => client.invoke(window(id), 1000));
    turns.turn();
    const answers = await Promise.all(asked);
    expect(endpoint.calls.map((call) => call.length)).toEqual([100, 100, 50]);
    expect(answers.map((answer) => answer.threshold)).toEqual(Array.from({ length: 250 }, (_, id) => id));
    expect(client.sent).toEqual({ calls: 3, windows: 250 });
  });

  it('GIVEN windows asked for in two turns THEN two calls', async () => {
    const endpoint = new FakeEndpoint();
    const turns = manualTurns();
    const client = new BatchingInferenceClient(endpoint, turns.defer);
    const first = client.invoke(window(1), 1000);
    turns.turn();
    const second = client.invoke(window(2), 1000);
    turns.turn();
    await Promise.all([first, second]);
    expect(endpoint.calls).toEqual([[1], [2]]);
  });

  it('GIVEN a byte limit THEN a call is split before it would pass it', async () => {
    const endpoint = new FakeEndpoint();
    const turns = manualTurns();
    const bytes = JSON.stringify(window(1, 300)).length + 1;
    const client = new BatchingInferenceClient(endpoint, turns.defer, { maxBytes: 2 * bytes });
    const asked = [1, 2, 3, 4, 5].map((id) => client.invoke(window(id, 300), 1000));
    turns.turn();
    await Promise.all(asked);
    expect(endpoint.calls).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('GIVEN one window the endpoint refuses THEN only its caller gets the refusal', async () => {
    const endpoint = new FakeEndpoint();
    const turns = manualTurns();
    const client = new BatchingInferenceClient(endpoint, turns.defer);
    const good = client.invoke(window(1), 1000);
    const bad = client.invoke(window(-1), 1000);
    turns.turn();
    expect((await good).threshold).toBe(1);
    expect(await failureOf(bad)).toMatchObject({ message: 'bad window', retryable: false });
    expect(endpoint.calls).toHaveLength(1);
  });

  it('GIVEN the call fails THEN every caller gets the failure, to retry or skip as the scorer decides', async () => {
    const endpoint = new FakeEndpoint();
    const turns = manualTurns();
    const client = new BatchingInferenceClient(endpoint, turns.defer);
    endpoint.failNext = new InferenceFailure('throttled', true);
    const asked = [1, 2, 3].map((id) => failureOf(client.invoke(window(id), 1000)));
    turns.turn();
    for (const failure of await Promise.all(asked))
      expect(failure).toMatchObject({ message: 'throttled', retryable: true });
  });

  it.each([
    [{ maxWindows: 0 }, 'maxWindows must be a whole number from 1 to 1000, got 0'],
    [{ maxWindows: 1001 }, 'maxWindows must be a whole number from 1 to 1000, got 1001'],
    [{ maxBytes: 10 }, 'maxBytes must be at least 1024, got 10'],
  ])('GIVEN %j THEN it is refused, naming the value', (options, message) => {
    expect(() => new BatchingInferenceClient(new FakeEndpoint(), () => undefined, options)).toThrow(message);
  });

  it('GIVEN windows measured by the batching client THEN the call body is exactly their JSON as one object', () => {
    const windows: ScoringWindow[] = [
      {
        sensors: ['a', 'b'],
        rows: [
          [1, 2.5],
          [-3e-7, 4],
        ],
        scoreFrom: 1,
      },
      { sensors: ['é"\\'], rows: [[Number.MAX_VALUE]], scoreFrom: 0, calibrate: true },
    ];
    expect(batchRequestBody(windows)).toBe(JSON.stringify({ windows }));
    expect(batchRequestBody([])).toBe(JSON.stringify({ windows: [] }));
  });
});
