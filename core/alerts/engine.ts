import type { InferenceRecord } from '../inference/inference-records.ts';
import type { Contributor } from '../model/anomaly-model.ts';
import type { AlertPolicy } from './policy.ts';

export const SEVERITIES = ['warning', 'major', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type { Contributor } from '../model/anomaly-model.ts';

/** A device's ongoing anomaly condition, from the reading that met the persistence rule until it clears. */
export interface Episode {
  readonly alertId: string;
  /** Time of the reading that met the persistence rule. */
  readonly openedAt: number;
  /** First anomalous reading of the persistence window that opened it. */
  readonly firstAnomalyAt: number;
  readonly lastAnomalyAt: number;
  readonly peakScore: number;
  /** Peak score over the threshold it was scored against. */
  readonly peakRatio: number;
  readonly threshold: number;
  /** Top contributing sensors at the peak. */
  readonly contributors: readonly Contributor[];
  readonly severity: Severity;
  readonly baselineVersion: number | null;
  readonly modelVersion: string | null;
}

/** Why a condition that met the persistence rule interrupted nobody. */
export type SuppressionRule = 'silence' | 'cooldown';

/** One device and inference's alerting state, kept between batches (and processes). */
export interface AlertTrack {
  readonly useCase: string;
  readonly deviceId: string;
  readonly inference: string;
  /** Bumped by every save; writes are conditional on it. */
  readonly revision: number;
  /** Times of the anomalous readings inside the persistence window, oldest first. */
  readonly recent: readonly number[];
  readonly episode?: Episode;
  /** When the last episode cleared: the cooldown counts from here. */
  readonly lastClearedAt?: number;
  /** The suppression in force, so that it is reported once, not per reading. */
  readonly suppressed?: { readonly rule: SuppressionRule; readonly ref: string; readonly since: number };
}

export type EngineEvent =
  | { readonly kind: 'open'; readonly episode: Episode }
  | {
      readonly kind: 'suppressed';
      readonly rule: SuppressionRule;
      /** The silence's id, or the alert whose cooldown it was. */
      readonly ref: string;
      readonly at: number;
      readonly score: number;
    }
  | { readonly kind: 'escalate'; readonly alertId: string; readonly severity: Severity; readonly at: number }
  | {
      readonly kind: 'progress';
      readonly alertId: string;
      readonly lastAnomalyAt: number;
      readonly peakScore: number;
      readonly contributors: readonly Contributor[];
    }
  | { readonly kind: 'clear'; readonly alertId: string; readonly at: number; readonly lastAnomalyAt: number };

/** An active silence or maintenance window covering the device at a time. */
export interface SilenceMatch {
  readonly id: string;
}

export function emptyTrack(useCase: string, deviceId: string, inference: string): AlertTrack {
  return { useCase, deviceId, inference, revision: 0, recent: [] };
}

/** Deterministic, so a redelivered batch opens the same alert instead of a second one. */
export function alertIdOf(
  track: Pick<AlertTrack, 'useCase' | 'deviceId' | 'inference'>,
  openedAt: number,
): string {
  return `${track.useCase}:${track.deviceId}:${track.inference}:${new Date(openedAt).toISOString()}`;
}

export function severityOf(policy: AlertPolicy, peakRatio: number, openSeconds: number): Severity {
  const { major, critical } = policy.severity;
  if (peakRatio >= critical.scoreRatio || openSeconds >= critical.afterSeconds) return 'critical';
  if (peakRatio >= major.scoreRatio || openSeconds >= major.afterSeconds) return 'major';
  return 'warning';
}

const rank = (severity: Severity) => SEVERITIES.indexOf(severity);

/**
 * Runs a device's scored readings (in time order) through the alert policy and returns the new
 * state and what happened. Pure: silences are looked up through `silenceAt`, and whether an
 * opened alert may notify (dedup, caps) is the store's decision.
 *
 * Rules, in the order a reading meets them: a reading counts only when its device is `monitoring`
 * and it is anomalous; a condition opens once `open.anomalousReadings` fall within
 * `open.withinSeconds`, unless a silence covers the device or the cooldown after the last episode
 * runs; an open condition clears after `clearAfterSeconds` without an anomalous reading, judged on
 * reading times so a replay gives the same result as live data.
 */
export function evaluate(
  policy: AlertPolicy,
  start: AlertTrack,
  readings: readonly InferenceRecord[],
  silenceAt: (time: number) => SilenceMatch | undefined,
): { track: AlertTrack; events: EngineEvent[] } {
  const events: EngineEvent[] = [];
  const windowMs = policy.open.withinSeconds * 1000;
  const clearMs = policy.clearAfterSeconds * 1000;
  let track = start;
  let progressed = false;

  const reportProgress = () => {
    const episode = track.episode;
    if (!progressed || !episode) return;
    progressed = false;
    events.push({
      kind: 'progress',
      alertId: episode.alertId,
      lastAnomalyAt: episode.lastAnomalyAt,
      peakScore: episode.peakScore,
      contributors: episode.contributors,
    });
  };

  const clearIfQuiet = (time: number) => {
    const episode = track.episode;
    if (!episode || time - episode.lastAnomalyAt < clearMs) return;
    reportProgress();
    const at = episode.lastAnomalyAt + clearMs;
    events.push({ kind: 'clear', alertId: episode.alertId, at, lastAnomalyAt: episode.lastAnomalyAt });
    const { episode: _closed, ...rest } = track;
    track = { ...rest, lastClearedAt: at, recent: [] };
  };

  for (const reading of readings) {
    clearIfQuiet(reading.time);
    const score = reading.score;
    if (reading.deviceState !== 'monitoring' || reading.anomalous !== true || score === null) continue;
    const threshold = reading.threshold ?? Number.POSITIVE_INFINITY;
    const recent = [...track.recent.filter((time) => time > reading.time - windowMs), reading.time];
    track = { ...track, recent };

    const episode = track.episode;
    if (episode) {
      const next = extendEpisode(policy, episode, reading, score, threshold);
      if (next.severity !== episode.severity) {
        events.push({
          kind: 'escalate',
          alertId: episode.alertId,
          severity: next.severity,
          at: reading.time,
        });
      }
      track = { ...track, episode: next };
      progressed = true;
      continue;
    }
    if (recent.length < policy.open.anomalousReadings) continue;

    const suppression = suppressionOf(policy, track, reading.time, silenceAt);
    if (suppression) {
      const { rule, ref } = suppression;
      if (track.suppressed?.rule !== rule || track.suppressed.ref !== ref) {
        events.push({ kind: 'suppressed', rule, ref, at: reading.time, score });
        track = { ...track, suppressed: { rule, ref, since: reading.time } };
      }
      continue;
    }
    const { suppressed: _over, ...rest } = track;
    const opened = openEpisode(policy, track, reading, recent[0] ?? reading.time, score, threshold);
    track = { ...rest, episode: opened };
    events.push({ kind: 'open', episode: opened });
  }
  const last = readings[readings.length - 1];
  if (last) clearIfQuiet(last.time);
  reportProgress();
  return { track, events };
}

/** The open episode after one more anomalous reading: a new peak, and a severity that only rises. */
function extendEpisode(
  policy: AlertPolicy,
  episode: Episode,
  reading: InferenceRecord,
  score: number,
  threshold: number,
): Episode {
  const peak = score > episode.peakScore;
  const next: Episode = {
    ...episode,
    lastAnomalyAt: Math.max(episode.lastAnomalyAt, reading.time),
    ...(peak ? { peakScore: score, peakRatio: score / threshold, contributors: reading.contributors } : {}),
  };
  const severity = severityOf(policy, next.peakRatio, (reading.time - next.openedAt) / 1000);
  return { ...next, severity: rank(severity) > rank(episode.severity) ? severity : episode.severity };
}

/** A silence covering the device, or the cooldown after its last episode, keeps a condition quiet. */
function suppressionOf(
  policy: AlertPolicy,
  track: AlertTrack,
  time: number,
  silenceAt: (time: number) => SilenceMatch | undefined,
): { readonly rule: SuppressionRule; readonly ref: string } | undefined {
  const silence = silenceAt(time);
  if (silence) return { rule: 'silence', ref: silence.id };
  const cooldownMs = policy.cooldownSeconds * 1000;
  if (track.lastClearedAt === undefined || time - track.lastClearedAt >= cooldownMs) return undefined;
  return {
    rule: 'cooldown',
    ref: `cooldown until ${new Date(track.lastClearedAt + cooldownMs).toISOString()}`,
  };
}

function openEpisode(
  policy: AlertPolicy,
  track: AlertTrack,
  reading: InferenceRecord,
  firstAnomalyAt: number,
  score: number,
  threshold: number,
): Episode {
  return {
    alertId: alertIdOf(track, reading.time),
    openedAt: reading.time,
    firstAnomalyAt,
    lastAnomalyAt: reading.time,
    peakScore: score,
    peakRatio: score / threshold,
    threshold,
    contributors: reading.contributors,
    severity: severityOf(policy, score / threshold, 0),
    baselineVersion: reading.baselineVersion,
    modelVersion: reading.modelVersion,
  };
}
