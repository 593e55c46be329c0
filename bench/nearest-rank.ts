/** The nearest-rank `q` quantile of ascending `sorted` values (NaN for none): how the benches report p50 and p99. */
export function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}
