import { z } from 'zod';

/**
 * What the cloud's fine-tuning hands its SageMaker training job in the `feedback` channel: one
 * CSV per device (a `time` column in epoch ms, then one column per measure) and this index,
 * `feedback.json`, naming the devices' files and the operators' verdicts as labelled stretches.
 */
export const FEEDBACK_INDEX_FILE = 'feedback.json';

/**
 * The figures a fine-tuning job prints as `fine-tune metric <name>=<value>` lines, which its metric
 * definitions make its final metrics: the candidate (scored by its recipe trained without the
 * held-out windows) and the live model, on the same held-out verdicts.
 */
export const FINE_TUNE_METRIC_NAMES = [
  'normal_flagged_share',
  'live_normal_flagged_share',
  'faults_flagged',
  'live_faults_flagged',
  'faults',
  'held_out_normal_readings',
  'training_readings',
] as const;

const stretchSchema = z.strictObject({
  deviceId: z.string().min(1).max(128),
  label: z.enum(['normal', 'anomaly']),
  from: z.int().min(0),
  to: z.int().min(0),
});

export const feedbackIndexSchema = z.strictObject({
  useCase: z.string().min(1).max(63),
  /** Why the candidate is trained, for its registration and the audit trail. */
  reason: z.string().min(1).max(1000),
  /** False-positive verdicts since the last candidate: what started it. */
  verdicts: z.int().min(0),
  days: z.int().min(1),
  devices: z
    .array(z.strictObject({ deviceId: z.string().min(1).max(128), file: z.string().regex(/^[\w.-]+\.csv$/) }))
    .min(1),
  labels: z.array(stretchSchema),
});

export type FeedbackIndex = z.output<typeof feedbackIndexSchema>;

/** A file name for a device's readings that no device id can turn into a path. */
export function deviceFileName(index: number, deviceId: string): string {
  return `${String(index).padStart(4, '0')}-${deviceId.replace(/[^\w.-]/g, '_').slice(0, 64)}.csv`;
}

/**
 * A device's readings as CSV: `time` then the measures by name; a measure the device did not
 * send is an empty cell (the training job leaves such rows out for the sensors its model uses).
 */
export function readingsCsv(
  measures: readonly { readonly name: string; readonly column: string }[],
  readings: readonly { readonly time: number; readonly measures: Readonly<Record<string, number>> }[],
): string {
  const lines = [['time', ...measures.map((m) => m.name)].join(',')];
  for (const reading of readings) {
    lines.push(
      [
        String(reading.time),
        ...measures.map((m) => (m.column in reading.measures ? String(reading.measures[m.column]) : '')),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
