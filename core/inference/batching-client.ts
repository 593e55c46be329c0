import { InferenceFailure, type InferenceClient, type InferenceResult, type ScoringWindow } from './ports.ts';
import { MAX_WINDOWS_PER_CALL, windowJson, type InferenceBatchClient } from './batch.ts';

export interface BatchingOptions {
  /** Windows one call carries at most. @default 100 */
  readonly maxWindows?: number;
  /** Request bytes one call carries at most: SageMaker takes 6 MB a request. @default 5_000_000 */
  readonly maxBytes?: number;
}

interface Queued {
  readonly window: ScoringWindow;
  readonly bytes: number;
  readonly timeoutMs: number;
  readonly resolve: (result: InferenceResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A model endpoint whose windows, asked for in the same turn of the event loop, go out in one
 * call: the scorer's calls for every device of a batch (DeviceScoring asks for them together) are
 * gathered until `defer` runs the flush, then sent as few calls as `maxWindows` and `maxBytes`
 * allow. Each window keeps its own answer or failure, so the ResilientScorer above it times out,
 * retries and counts failures per window as before.
 */
export class BatchingInferenceClient implements InferenceClient {
  private queued: Queued[] = [];
  private scheduled = false;
  private readonly maxWindows: number;
  private readonly maxBytes: number;
  /** Calls made and windows sent, for the metrics: windows per call is the batching's yield. */
  readonly sent = { calls: 0, windows: 0 };

  constructor(
    private readonly client: InferenceBatchClient,
    /** Runs the flush once the callers of this turn have asked (real: setImmediate). */
    private readonly defer: (flush: () => void) => void,
    options: BatchingOptions = {},
  ) {
    this.maxWindows = options.maxWindows ?? 100;
    this.maxBytes = options.maxBytes ?? 5_000_000;
    if (!Number.isInteger(this.maxWindows) || this.maxWindows < 1 || this.maxWindows > MAX_WINDOWS_PER_CALL)
      throw new Error(
        `maxWindows must be a whole number from 1 to ${MAX_WINDOWS_PER_CALL}, got ${this.maxWindows}`,
      );
    if (!(this.maxBytes >= 1024)) throw new Error(`maxBytes must be at least 1024, got ${this.maxBytes}`);
  }

  invoke(window: ScoringWindow, timeoutMs: number): Promise<InferenceResult> {
    return new Promise((resolve, reject) => {
      // JSON's length in UTF-16 units: the bytes of the ASCII JSON a window is.
      this.queued.push({ window, bytes: windowJson(window).length + 1, timeoutMs, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      this.defer(() => {
        this.flush();
      });
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queued = this.queued;
    this.queued = [];
    let group: Queued[] = [];
    let bytes = 0;
    for (const entry of queued) {
      if (group.length > 0 && (group.length === this.maxWindows || bytes + entry.bytes > this.maxBytes)) {
        void this.send(group);
        group = [];
        bytes = 0;
      }
      group.push(entry);
      bytes += entry.bytes;
    }
    if (group.length > 0) void this.send(group);
  }

  private async send(group: readonly Queued[]): Promise<void> {
    this.sent.calls += 1;
    this.sent.windows += group.length;
    try {
      const answers = await this.client.invokeBatch(
        group.map((entry) => entry.window),
        Math.max(...group.map((entry) => entry.timeoutMs)),
      );
      group.forEach((entry, index) => {
        const answer = answers[index];
        if (answer === undefined)
          entry.reject(
            new InferenceFailure('the endpoint gave no answer for the window', false, {
              endpointUnhealthy: true,
            }),
          );
        else if (answer instanceof InferenceFailure) entry.reject(answer);
        else entry.resolve(answer);
      });
    } catch (error) {
      for (const entry of group) entry.reject(error);
    }
  }
}
