import { median } from '../core/model/statistics.ts';
import type { SkabPart } from './skab-split.ts';

/**
 * The SKAB figures of readings and alerts, per file and summed over any set of files (a part of
 * the split, or all of them): the standalone protocol's F1/FAR/MAR on the readings after
 * calibration, and, for alerts, labelled events caught while they last and false alerts per
 * device-hour of normal data.
 */
export interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface FileOutcome {
  readonly file: string;
  readonly part: SkabPart;
  readonly counts: Counts;
  readonly events: number;
  /** Events during which an alert opened. */
  readonly caught: number;
  /** Events during which an alert was open at some point (one opened just before counts). */
  readonly covered: number;
  /** Alerts opened after calibration on a reading labelled normal. */
  readonly falseAlerts: number;
  readonly alerts: number;
  readonly normalReadings: number;
  /** Seconds from each caught event's start to its alert. */
  readonly delays: readonly number[];
}

/** What one file's readings and alerts score, rows counted from the file's first row. */
export function fileOutcome(
  where: { readonly file: string; readonly part: SkabPart },
  labels: readonly boolean[],
  flagged: ReadonlyMap<number, boolean>,
  alerts: readonly { readonly from: number; readonly to: number }[],
  calibration: number,
): FileOutcome {
  const counts: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  let normalReadings = 0;
  labels.forEach((actual, i) => {
    if (i < calibration) return;
    const predicted = flagged.get(i) === true;
    counts[predicted ? (actual ? 'tp' : 'fp') : actual ? 'fn' : 'tn'] += 1;
    if (!actual) normalReadings += 1;
  });
  let events = 0;
  let caught = 0;
  let covered = 0;
  const delays: number[] = [];
  for (let i = calibration; i < labels.length;) {
    if (!labels[i]) {
      i += 1;
      continue;
    }
    let end = i;
    while (end < labels.length && labels[end]) end += 1;
    events += 1;
    if (alerts.some((span) => span.from < end && span.to >= i)) covered += 1;
    const opened = alerts.find((span) => span.from >= i && span.from < end);
    if (opened !== undefined) {
      caught += 1;
      delays.push(opened.from - i);
    }
    i = end;
  }
  const falseAlerts = alerts.filter((span) => span.from >= calibration && labels[span.from] !== true).length;
  return {
    ...where,
    counts,
    events,
    caught,
    covered,
    falseAlerts,
    alerts: alerts.length,
    normalReadings,
    delays,
  };
}

export interface Figures {
  readonly files: number;
  readonly f1: number;
  readonly far: number;
  readonly mar: number;
  readonly events: number;
  readonly eventsCaught: number;
  readonly eventsCovered: number;
  readonly falseAlerts: number;
  readonly deviceHours: number;
  readonly falseAlertsPerDeviceHour: number;
  readonly medianDelaySeconds: number | null;
}

/** The figures of a set of files, summed as the protocol sums them (readings over all files). */
export function figuresOf(outcomes: readonly FileOutcome[]): Figures {
  const sum = (pick: (o: FileOutcome) => number) => outcomes.reduce((total, o) => total + pick(o), 0);
  const tp = sum((o) => o.counts.tp);
  const fp = sum((o) => o.counts.fp);
  const fn = sum((o) => o.counts.fn);
  const tn = sum((o) => o.counts.tn);
  const deviceHours = sum((o) => o.normalReadings) / 3600;
  const falseAlerts = sum((o) => o.falseAlerts);
  return {
    files: outcomes.length,
    f1: (2 * tp) / (2 * tp + fp + fn),
    far: (100 * fp) / (fp + tn),
    mar: (100 * fn) / (fn + tp),
    events: sum((o) => o.events),
    eventsCaught: sum((o) => o.caught),
    eventsCovered: sum((o) => o.covered),
    falseAlerts,
    deviceHours,
    falseAlertsPerDeviceHour: falseAlerts / deviceHours,
    medianDelaySeconds: median(outcomes.flatMap((o) => o.delays)),
  };
}

/** The bench's result line: exactly the keys the issue names, rounded as before. */
export function resultLine(figures: Figures) {
  return {
    files: figures.files,
    f1: Number(figures.f1.toFixed(4)),
    far: Number(figures.far.toFixed(3)),
    mar: Number(figures.mar.toFixed(3)),
    events: figures.events,
    eventsCaught: figures.eventsCaught,
    falseAlerts: figures.falseAlerts,
    deviceHours: Number(figures.deviceHours.toFixed(3)),
    falseAlertsPerDeviceHour: Number(figures.falseAlertsPerDeviceHour.toFixed(4)),
    medianDelaySeconds: figures.medianDelaySeconds,
  };
}
