import type { AlertStore } from '../alerts/ports.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import { percentile } from './checks.ts';
import { percent, round, type MakeFinding } from './finding-text.ts';
import type { Finding, InferenceSample } from './ports.ts';
import type { ModelDescription } from './profile.ts';

const DAY_MS = 24 * 3600_000;
/** Fewer scored readings than this say nothing about an anomaly rate. */
const MIN_SCORED = 100;

/**
 * The model's performance across the fleet: its anomaly rate against the expected one, its
 * latency, readings stored without a score, and how many of its alerts operators called false.
 */
export async function modelFindings(
  manifest: UseCaseManifest,
  model: Pick<ModelDescription, 'modelVersion'> | undefined,
  samples: readonly InferenceSample[],
  alerts: Pick<AlertStore, 'listAlerts'>,
  make: MakeFinding,
  now: number,
): Promise<Finding[]> {
  const subject = { deviceId: null, sensor: null, modelVersion: model?.modelVersion ?? null };
  return [
    ...scoringFindings(manifest, samples, (partial) => make({ ...subject, ...partial })),
    ...(await falsePositiveFindings(manifest, alerts, (partial) => make({ ...subject, ...partial }), now)),
  ];
}

type SubjectFinding = (
  partial: Omit<Finding, 'useCase' | 'from' | 'to' | 'at' | 'deviceId' | 'sensor' | 'modelVersion'>,
) => Finding;

function scoringFindings(
  manifest: UseCaseManifest,
  samples: readonly InferenceSample[],
  make: SubjectFinding,
): Finding[] {
  const policy = manifest.drift;
  const findings: Finding[] = [];
  const scored = samples.filter((s) => s.status === 'scored');
  const monitored = scored.filter((s) => s.monitoring);
  if (monitored.length >= MIN_SCORED) {
    const rate = monitored.filter((s) => s.anomalous === true).length / monitored.length;
    const limit = policy.anomalyRate.expected * policy.anomalyRate.maxFactor;
    if (rate > limit) {
      findings.push(
        make({
          check: 'anomaly-rate',
          figure: round(rate),
          threshold: limit,
          unit: 'share',
          summary: `${percent(rate)} of monitored readings scored anomalous across the fleet, expected about ${percent(policy.anomalyRate.expected)}`,
          action:
            'if the alerts are false, retrain the model with the operators’ verdicts; if they are real, the fleet has a common cause',
        }),
      );
    }
  }
  const p99 = percentile(
    scored.flatMap((s) => (s.latencyMs === null ? [] : [s.latencyMs])),
    0.99,
  );
  if (p99 !== undefined && p99 > policy.inference.p99Ms) {
    findings.push(
      make({
        check: 'inference-latency',
        figure: round(p99, 1),
        threshold: policy.inference.p99Ms,
        unit: 'ms',
        summary: `inference p99 ${round(p99, 1)} ms over ${scored.length} scores`,
        action: 'scale the endpoint out (more instances, or a lower invocations-per-instance target)',
      }),
    );
  }
  if (samples.length > 0) {
    const skipped = (samples.length - scored.length) / samples.length;
    if (skipped > policy.inference.maxSkippedShare) {
      findings.push(
        make({
          check: 'skipped-scores',
          figure: round(skipped),
          threshold: policy.inference.maxSkippedShare,
          unit: 'share',
          summary: `${percent(skipped)} of readings were stored without a score`,
          action: 'check the endpoint: its health, errors and the scorer circuit breaker in the ingest logs',
        }),
      );
    }
  }
  return findings;
}

async function falsePositiveFindings(
  manifest: UseCaseManifest,
  alerts: Pick<AlertStore, 'listAlerts'>,
  make: SubjectFinding,
  now: number,
): Promise<Finding[]> {
  const policy = manifest.drift;
  const findings: Finding[] = [];
  const answered = (
    await alerts.listAlerts({
      useCase: manifest.id,
      since: now - policy.falsePositives.days * DAY_MS,
      limit: 1000,
    })
  ).filter((a) => a.verdict !== null);
  if (answered.length >= policy.falsePositives.minAnswered) {
    const share = answered.filter((a) => a.verdict?.kind === 'false-positive').length / answered.length;
    if (share > policy.falsePositives.maxShare) {
      findings.push(
        make({
          check: 'false-positives',
          figure: round(share),
          threshold: policy.falsePositives.maxShare,
          unit: 'share',
          summary: `${percent(share)} of the ${answered.length} alerts answered in ${policy.falsePositives.days} days were false positives`,
          action:
            'retrain the model with the operators’ verdicts (aiot model retrain), or review the alert policy with aiot alerts replay',
        }),
      );
    }
  }
  return findings;
}
