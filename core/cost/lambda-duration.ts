/**
 * From what an invocation cost on a whole core to what Lambda bills for it. Lambda gives a
 * function CPU in proportion to its memory: at 1,769 MB it has the equivalent of one vCPU
 * (Lambda developer guide, "Configuring Lambda function memory"), so below that the same work
 * takes longer, while the time spent waiting on other services does not change.
 */
export const MB_PER_VCPU = 1769;

export interface InvocationSample {
  /** Readings the invocation's batch carried. */
  readonly readings: number;
  /** CPU time of the handler's process during the invocation (user + system), ms. */
  readonly cpuMs: number;
  /** Wall-clock time of the invocation, ms. */
  readonly wallMs: number;
}

/**
 * The billed duration of an invocation measured on a whole core, for a function of `memoryMb`:
 * its CPU time stretched by the share of a vCPU it gets, plus the time it waited (wall time not
 * spent on CPU; never below 0, as background threads may add CPU time beside the wall time).
 */
export function billedMs(sample: InvocationSample, memoryMb: number): number {
  if (!(memoryMb >= 128 && memoryMb <= 10_240))
    throw new Error(`memoryMb must be Lambda's 128 to 10,240, got ${memoryMb}`);
  const waitMs = Math.max(0, sample.wallMs - sample.cpuMs);
  return sample.cpuMs * Math.max(1, MB_PER_VCPU / memoryMb) + waitMs;
}

export interface Line {
  /** Where the line meets x = 0: here, the cost of an invocation with no readings. */
  readonly intercept: number;
  /** Its slope: here, the cost of each reading more. */
  readonly slope: number;
}

/** The least-squares line through the points; they need at least two distinct x. */
export function fitLine(points: readonly { readonly x: number; readonly y: number }[]): Line {
  const n = points.length;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - meanX) ** 2;
    sxy += (p.x - meanX) * (p.y - meanY);
  }
  if (!(sxx > 0)) throw new Error(`a line needs points at two or more x, got ${n} point(s) at one`);
  const slope = sxy / sxx;
  return { intercept: meanY - slope * meanX, slope };
}
