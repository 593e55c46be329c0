import type { Clock } from '../ingest/ports.ts';
import {
  InferenceFailure,
  type InferenceClient,
  type InferenceFailureCode,
  type InferenceResult,
  type ScoringWindow,
} from './ports.ts';

export interface ResilienceOptions {
  /** Per attempt. @default 1000 */
  readonly timeoutMs?: number;
  /** Attempts per window, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** Delay before the second attempt, doubled for each later one. @default 50 */
  readonly backoffMs?: number;
  /** Consecutive windows failed by the endpoint (not by the request) that open the circuit. @default 5 */
  readonly failureThreshold?: number;
  /** How long an open circuit skips scoring before one trial call. @default 30000 */
  readonly openMs?: number;
}

export type ScoringOutcome =
  | {
      readonly status: 'scored';
      readonly result: InferenceResult;
      readonly latencyMs: number;
      readonly attempts: number;
    }
  | {
      readonly status: 'skipped';
      readonly reason: string;
      readonly attempts: number;
      /** Set when the endpoint refused the request for a reason the caller can mend. */
      readonly code?: InferenceFailureCode;
    };

const TIMED_OUT: unique symbol = Symbol('timed out');
const CANCELLED: unique symbol = Symbol('cancelled');

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Calls the model with a timeout, bounded retries and a circuit breaker, and never throws:
 * a slow or failing endpoint turns into `skipped` with the reason, so storage never waits on it.
 */
export class ResilientScorer {
  private consecutiveFailures = 0;
  private openUntil = 0;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly failureThreshold: number;
  private readonly openMs: number;

  constructor(
    private readonly client: InferenceClient,
    private readonly clock: Clock,
    /** Resolves after `ms`; rejects when `signal` aborts first. Real: node:timers/promises setTimeout. */
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
    options: ResilienceOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffMs = options.backoffMs ?? 50;
    this.failureThreshold = options.failureThreshold ?? 5;
    this.openMs = options.openMs ?? 30_000;
    for (const [name, value] of Object.entries({
      timeoutMs: this.timeoutMs,
      maxAttempts: this.maxAttempts,
      failureThreshold: this.failureThreshold,
    })) {
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`${name} must be a positive integer, got ${value}`);
    }
  }

  get circuit(): CircuitState {
    if (this.consecutiveFailures < this.failureThreshold) return 'closed';
    return this.clock.now() < this.openUntil ? 'open' : 'half-open';
  }

  async score(window: ScoringWindow): Promise<ScoringOutcome> {
    const state = this.circuit;
    if (state === 'open') {
      return {
        status: 'skipped',
        reason: `circuit open after ${this.consecutiveFailures} failed windows; next trial at ${new Date(this.openUntil).toISOString()}`,
        attempts: 0,
      };
    }
    // Half-open: one trial attempt, no retries, so a dead endpoint costs one timeout per period.
    const attemptsAllowed = state === 'half-open' ? 1 : this.maxAttempts;
    let lastFailure: InferenceFailure | undefined;
    let attempts = 0;
    for (let attempt = 1; attempt <= attemptsAllowed; attempt++) {
      attempts = attempt;
      const started = this.clock.now();
      try {
        const result = await this.withTimeout(this.client.invoke(window, this.timeoutMs));
        this.consecutiveFailures = 0;
        return { status: 'scored', result, latencyMs: this.clock.now() - started, attempts: attempt };
      } catch (error) {
        const failure =
          error instanceof InferenceFailure
            ? error
            : new InferenceFailure(String(error), false, { cause: error, endpointUnhealthy: true });
        lastFailure = failure;
        if (!failure.retryable || attempt === attemptsAllowed) break;
        await this.sleep(this.backoffMs * 2 ** (attempt - 1));
      }
    }
    // A request the endpoint refused (a 4xx) says nothing about the endpoint's health: it neither
    // counts towards opening the circuit nor closes it.
    if (lastFailure?.endpointUnhealthy !== false) {
      this.consecutiveFailures += 1;
      if (this.consecutiveFailures >= this.failureThreshold) this.openUntil = this.clock.now() + this.openMs;
    } else if (state === 'half-open') {
      // The trial reached a live endpoint that answered: it is healthy again.
      this.consecutiveFailures = 0;
    }
    return {
      status: 'skipped',
      reason: lastFailure?.message ?? 'no attempt made',
      attempts,
      ...(lastFailure?.code ? { code: lastFailure.code } : {}),
    };
  }

  private async withTimeout(call: Promise<InferenceResult>): Promise<InferenceResult> {
    // The adapter aborts its own request; this bounds the wait even if it does not. A call that
    // fails after the timeout has won must not surface as an unhandled rejection.
    call.catch(() => undefined);
    const timer = new AbortController();
    const timeout = this.sleep(this.timeoutMs, timer.signal).then(
      (): typeof TIMED_OUT => TIMED_OUT,
      (): typeof CANCELLED => CANCELLED,
    );
    try {
      const winner = await Promise.race([call, timeout]);
      if (winner === TIMED_OUT) throw new InferenceFailure(`no answer within ${this.timeoutMs} ms`, true);
      if (winner === CANCELLED) throw new InferenceFailure('timeout cancelled before the answer', true);
      return winner;
    } finally {
      timer.abort();
    }
  }
}
