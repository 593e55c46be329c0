import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom.ts';

/** The series answer of the operators' API (`/alerts/<id>/series`, `/devices/.../series`). */
export interface SeriesAnswer {
  readonly deviceId: string;
  readonly from: number;
  readonly to: number;
  readonly baselineVersion: number | null;
  readonly threshold?: number;
  readonly sensors: readonly {
    readonly sensor: string;
    readonly unit: string;
    readonly baseline: { readonly mean: number; readonly scale: number } | null;
  }[];
  readonly series: {
    readonly times: number[];
    readonly values: Record<string, (number | null)[]>;
    readonly scores: (number | null)[];
    readonly thresholds: (number | null)[];
  };
}

/** Colours that stay apart in bright light and for the common colour blindnesses (Okabe-Ito). */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'];
const THRESHOLD = '#B00020';
const BASELINE = '#555555';
/** The normal band of a calibrated sensor: its mean plus or minus this many scales. */
export const NORMAL_BAND = 3;

interface Line {
  label: string;
  values: (number | null)[];
  stroke: string;
  dash?: number[];
  width?: number;
  bars?: boolean;
}

function plot(
  title: string,
  unit: string,
  times: number[],
  lines: Line[],
  height: number,
  logScale = false,
): HTMLElement {
  const figure = h('figure', { className: 'chart' }, h('figcaption', {}, title));
  const target = h('div', { className: 'chart-body', attrs: { role: 'img', 'aria-label': title } });
  figure.append(target);
  const options: uPlot.Options = {
    width: 320,
    height,
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    // A score many times its threshold would flatten the threshold line: those plot on a log scale.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- uPlot's Distr is a const enum, out of reach with isolatedModules: 3 is Logarithmic.
    scales: { x: { time: true }, ...(logScale ? { y: { distr: 3 } } : {}) },
    axes: [
      // Room for a time and a date under it at a phone's width: fewer ticks, none overlapping.
      { stroke: '#222', grid: { stroke: '#ddd' }, font: '13px system-ui', space: 80, size: 48 },
      {
        stroke: '#222',
        grid: { stroke: '#ddd' },
        font: '13px system-ui',
        label: unit,
        labelFont: '13px system-ui',
        size: 56,
      },
    ],
    series: [
      {},
      ...lines.map((line) => ({
        label: line.label,
        stroke: line.stroke,
        width: line.width ?? 2,
        ...(line.dash ? { dash: line.dash } : {}),
        ...(line.bars ? { paths: uPlot.paths.bars?.({ size: [0.6, 40] }), fill: line.stroke } : {}),
        spanGaps: false,
        points: { show: false },
      })),
    ],
  };
  const data: uPlot.AlignedData = [times.map((t) => t / 1000), ...lines.map((line) => line.values)];
  // Drawn once the figure is in the page, at the width it gets there.
  requestAnimationFrame(() => {
    const chart = new uPlot({ ...options, width: Math.max(260, target.clientWidth) }, data, target);
    const resize = new ResizeObserver(() => {
      if (!target.isConnected) {
        resize.disconnect();
        chart.destroy();
        return;
      }
      chart.setSize({ width: Math.max(260, target.clientWidth), height });
    });
    resize.observe(target);
  });
  return figure;
}

const constant = (times: number[], value: number) => times.map(() => value);

/** Whether scores reach far enough past the threshold (and stay positive) for a log axis. */
function wide(scores: readonly (number | null)[], threshold: number): boolean {
  const present = scores.filter((s): s is number => s !== null);
  return present.length > 0 && present.every((s) => s > 0) && Math.max(...present) > 10 * threshold;
}

/**
 * An alert's two plots: its contributing sensors as distance from the device's calibrated normal
 * (so sensors of different units share an axis, the baseline at 0, its normal band marked), and
 * the anomaly score against the threshold.
 */
export function alertCharts(answer: SeriesAnswer): HTMLElement {
  const { times, values, scores } = answer.series;
  const lines: Line[] = answer.sensors.map(({ sensor, baseline }, index) => ({
    label: baseline ? sensor : `${sensor} (raw)`,
    stroke: COLOURS[index % COLOURS.length] ?? '#000',
    values: (values[sensor] ?? []).map((v) =>
      v === null ? null : baseline ? (v - baseline.mean) / baseline.scale : v,
    ),
  }));
  const calibrated = answer.sensors.some((s) => s.baseline);
  if (calibrated) {
    lines.push(
      {
        label: `normal +${NORMAL_BAND}`,
        stroke: BASELINE,
        dash: [6, 4],
        width: 1,
        values: constant(times, NORMAL_BAND),
      },
      { label: 'baseline', stroke: BASELINE, width: 1, values: constant(times, 0) },
      {
        label: `normal −${NORMAL_BAND}`,
        stroke: BASELINE,
        dash: [6, 4],
        width: 1,
        values: constant(times, -NORMAL_BAND),
      },
    );
  }
  const threshold = answer.threshold;
  const scoreLines: Line[] = [{ label: 'score', stroke: '#000', values: scores }];
  if (threshold !== undefined)
    scoreLines.push({
      label: 'threshold',
      stroke: THRESHOLD,
      dash: [8, 4],
      values: constant(times, threshold),
    });
  return h(
    'div',
    { className: 'charts' },
    plot(
      calibrated
        ? `Contributing sensors, distance from this device's baseline v${answer.baselineVersion ?? '?'}`
        : 'Contributing sensors',
      calibrated ? 'scales' : '',
      times,
      lines,
      200,
    ),
    plot('Anomaly score', '', times, scoreLines, 160, threshold !== undefined && wide(scores, threshold)),
  );
}

/** A device's readings, one small plot per sensor in its own unit, with its baseline marked. */
export function deviceCharts(answer: SeriesAnswer): HTMLElement {
  const { times, values, scores, thresholds } = answer.series;
  const figures = answer.sensors.map(({ sensor, unit, baseline }, index) => {
    const lines: Line[] = [
      { label: sensor, stroke: COLOURS[index % COLOURS.length] ?? '#000', values: values[sensor] ?? [] },
    ];
    if (baseline) {
      lines.push(
        { label: 'baseline', stroke: BASELINE, width: 1, values: constant(times, baseline.mean) },
        {
          label: `normal ±${NORMAL_BAND}`,
          stroke: BASELINE,
          dash: [6, 4],
          width: 1,
          values: constant(times, baseline.mean + NORMAL_BAND * baseline.scale),
        },
      );
    }
    return plot(sensor, unit, times, lines, 150);
  });
  figures.unshift(
    plot(
      'Anomaly score',
      '',
      times,
      [
        { label: 'score', stroke: '#000', values: scores },
        { label: 'threshold', stroke: THRESHOLD, dash: [8, 4], values: thresholds },
      ],
      150,
    ),
  );
  return h('div', { className: 'charts charts-grid' }, ...figures);
}

/** Alerts per device per day, as bars. */
export function loadChart(days: readonly { day: string; perDevice: number }[]): HTMLElement {
  const times = days.map((d) => Date.parse(`${d.day}T00:00:00Z`));
  const figure = plot(
    'Alerts per device per day',
    'alerts',
    times,
    [{ label: 'per device', stroke: COLOURS[0] ?? '#000', values: days.map((d) => d.perDevice), bars: true }],
    180,
  );
  return figure;
}
