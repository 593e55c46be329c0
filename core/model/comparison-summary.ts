/**
 * A version's comparison with the live model in one line, for people deciding on approval: the
 * held-out windows judged normal that each flags, and the confirmed faults each catches. Reads the
 * local registry's metrics (core/model/fine-tune-candidate.ts) and the names a fine-tuning job's
 * final metrics have in the cloud (core/model/fine-tune-data.ts); null when it has no comparison.
 */
export function comparisonSummary(metrics: Readonly<Record<string, string | number>>): string | null {
  const share = (value: string | number | undefined) => {
    const n = Number(value);
    return value === undefined || !Number.isFinite(n) ? undefined : `${(100 * n).toFixed(1)}%`;
  };
  const normalNext = share(metrics.normalFlaggedShare ?? metrics.normal_flagged_share);
  const normalLive = share(metrics.liveNormalFlaggedShare ?? metrics.live_normal_flagged_share);
  const faults = metrics.faults;
  const faultsNext =
    metrics.confirmedFaultsFlagged ??
    (faults === undefined ? undefined : `${metrics.faults_flagged ?? '?'} of ${faults}`);
  const faultsLive =
    metrics.liveConfirmedFaultsFlagged ??
    (faults === undefined ? undefined : `${metrics.live_faults_flagged ?? '?'} of ${faults}`);
  const parts = [
    normalNext !== undefined && normalLive !== undefined
      ? `held-out normal windows flagged: live ${normalLive}, this version ${normalNext}`
      : undefined,
    faultsNext !== undefined && faultsLive !== undefined
      ? `confirmed faults caught: live ${String(faultsLive)}, this version ${String(faultsNext)}`
      : undefined,
  ].filter((part): part is string => part !== undefined);
  return parts.length > 0 ? parts.join('; ') : null;
}
