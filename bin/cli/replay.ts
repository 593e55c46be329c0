import { issuesText } from '../../core/contracts/reasons.ts';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { parse } from 'yaml';
import { alertPolicySchema, type AlertPolicy } from '../../core/alerts/policy.ts';
import type { Silence } from '../../core/alerts/ports.ts';
import { replayPolicy, type LabelledWindow, type ReplayResult } from '../../core/alerts/replay.ts';
import type { InferenceRecord } from '../../core/inference/inference-records.ts';
import { withLocalStore, type StoreQuery } from '../../local/store/query-client.ts';
import { sqlText } from '../../local/store/sql.ts';
import { deviceRows, devicesIn, standingVerdicts } from '../../local/store/store-reads.ts';
import { alertInferenceOf } from '../../core/usecase/manifest.ts';
import { loadUseCases } from '../../usecases/catalog.ts';
import { dataDirOption } from './options.ts';
import { printTable } from './output.ts';

/** Reads a proposed policy: a file with an `alerts:` section (a manifest) or the policy itself. */
export function readPolicyFile(file: string): AlertPolicy {
  const document: unknown = parse(readFileSync(file, 'utf8'));
  const policy =
    typeof document === 'object' && document !== null && 'alerts' in document ? document.alerts : document;
  const parsed = alertPolicySchema.safeParse(policy ?? {});
  if (!parsed.success) {
    throw new Error(`${file} is not an alert policy: ${issuesText(parsed.error.issues)}`);
  }
  return parsed.data;
}

async function storedScores(query: StoreQuery, useCase: string): Promise<Map<string, InferenceRecord[]>> {
  const byDevice = new Map<string, InferenceRecord[]>();
  for (const deviceId of await devicesIn(query, 'inferences', useCase)) {
    const rows = await deviceRows(query, 'inferences', useCase, deviceId, {
      columns:
        'status, score, threshold, anomalous, contributors, model_version, device_state, baseline_version',
    });
    byDevice.set(
      deviceId,
      rows.map((row) => ({
        useCase,
        deviceId,
        time: Number(row.t),
        status: row.status === 'scored' ? 'scored' : 'skipped',
        score: row.score === null ? null : Number(row.score),
        threshold: row.threshold === null ? null : Number(row.threshold),
        anomalous: row.anomalous === null ? null : row.anomalous === true,
        contributors: JSON.parse(String(row.contributors)) as InferenceRecord['contributors'],
        modelVersion: typeof row.model_version === 'string' ? row.model_version : null,
        latencyMs: null,
        skipReason: null,
        // Scores from before device baselines count as monitored.
        deviceState:
          row.device_state === 'calibrating' || row.device_state === 'warming-up'
            ? row.device_state
            : 'monitoring',
        baselineVersion: row.baseline_version === null ? null : Number(row.baseline_version),
      })),
    );
  }
  return byDevice;
}

async function labelledWindows(query: StoreQuery, useCase: string) {
  const verdicts = await standingVerdicts(query, useCase);
  const windows = (label: string): LabelledWindow[] =>
    verdicts
      .filter((verdict) => verdict.label === label)
      .map(({ deviceId, from, to }) => ({ deviceId, from, to }));
  return { anomalies: windows('anomaly'), normal: windows('normal') };
}

async function storedSilences(query: StoreQuery, useCase: string): Promise<Silence[]> {
  const { rows } = await query(`SELECT silence FROM silences WHERE use_case = ${sqlText(useCase)}`);
  return rows.map((row) => JSON.parse(String(row.silence)) as Silence);
}

function comparison(results: readonly (readonly [string, ReplayResult])[]) {
  const metrics: [string, (r: ReplayResult) => string][] = [
    ['devices', (r) => String(r.devices)],
    ['device-days', (r) => r.deviceDays.toFixed(2)],
    ['alerts', (r) => String(r.alerts)],
    ['alerts per device per day', (r) => r.alertsPerDeviceDay.toFixed(2)],
    ['notified / in the digest', (r) => `${r.notified} / ${r.digest}`],
    ['notifications (grouped)', (r) => String(r.notifications)],
    [
      'suppressed: silence / cooldown / cap',
      (r) => `${r.suppressed.silence} / ${r.suppressed.cooldown} / ${r.suppressed.cap}`,
    ],
    ['confirmed faults caught', (r) => `${r.eventsCaught} of ${r.events}`],
    [
      'median seconds to alert',
      (r) => (r.medianDelaySeconds === null ? '-' : r.medianDelaySeconds.toFixed(0)),
    ],
    ['alerts on windows judged normal', (r) => String(r.alertsOnNormal)],
  ];
  return metrics.map(([metric, value]) => ({
    metric,
    ...Object.fromEntries(results.map(([name, result]) => [name, value(result)])),
  }));
}

export function replayCommand(): Command {
  return new Command('replay')
    .description(
      'replay the stored scores of a use case under its policy, and under a proposed one, to see the alert load before changing it',
    )
    .requiredOption('--use-case <id>', 'the use case')
    .option('--policy <file>', 'a proposed policy: YAML with an alerts: section, or the policy itself')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dataDirOption())
    .action(async (options: { useCase: string; policy?: string; format: string; dataDir: string }) => {
      const manifest = loadUseCases().find((useCase) => useCase.id === options.useCase);
      if (!manifest) throw new Error(`unknown use case "${options.useCase}"`);
      const dataDir = path.resolve(options.dataDir);
      const { devices, labels, silences } = await withLocalStore(dataDir, async (query) => ({
        devices: await storedScores(query, manifest.id),
        labels: await labelledWindows(query, manifest.id),
        silences: await storedSilences(query, manifest.id),
      }));
      const readings = [...devices.values()].reduce((sum, list) => sum + list.length, 0);
      if (readings === 0) throw new Error(`no stored scores for ${manifest.id} in ${dataDir}`);
      const base = {
        useCase: manifest.id,
        inference: alertInferenceOf(manifest),
        devices,
        silences,
        ...labels,
      };
      const results: [string, ReplayResult][] = [
        ['current policy', await replayPolicy({ ...base, policy: manifest.alerts })],
      ];
      if (options.policy) {
        results.push([
          `proposed (${path.basename(options.policy)})`,
          await replayPolicy({ ...base, policy: readPolicyFile(options.policy) }),
        ]);
      }
      if (options.format === 'json') {
        console.log(JSON.stringify(Object.fromEntries(results), null, 2));
        return;
      }
      const rows = comparison(results);
      printTable(['metric', ...results.map(([name]) => name)], rows);
      console.log(`${readings} stored scores of ${devices.size} devices replayed`);
    });
}
