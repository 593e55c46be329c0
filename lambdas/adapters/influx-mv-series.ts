import type { KeptSavings } from '../../core/kpi/mv/kept-mv.ts';
import type { MvReport } from '../../core/kpi/mv/mv-report.ts';
import { stringField, tagValue, type InfluxHttp } from './influx-http.ts';
import { MAX_LINES_PER_WRITE } from './influx-telemetry-store.ts';

/** Each interval of a KPI's M&V: measured, the baseline's prediction, and in reporting the savings. */
export const MV_MEASUREMENT = 'kpi_mv';
/** Each run's savings figures of a KPI, for the dashboard's "saved so far" panel. */
export const SAVINGS_MEASUREMENT = 'kpi_savings';

const numberFields = (fields: Readonly<Record<string, number | null>>): string[] =>
  Object.entries(fields).flatMap(([name, value]) =>
    value === null || !Number.isFinite(value) ? [] : [`${name}=${value}`],
  );

/** The lines of one KPI's M&V: the baseline's intervals as fitted, the reporting intervals, the run's figures. */
export function mvLines(savings: KeptSavings, report: MvReport): string[] {
  const tags = (period?: string) =>
    `use_case=${tagValue(savings.useCase)},kpi=${tagValue(savings.kpi)}${period ? `,period=${period}` : ''}`;
  const lines = [
    ...report.fitted.map(
      (point) =>
        `${MV_MEASUREMENT},${tags('baseline')} ${numberFields({ measured: point.measured, predicted: point.predicted }).join(',')} ${point.from}`,
    ),
    ...report.reporting.map(
      (point) =>
        `${MV_MEASUREMENT},${tags('reporting')} ${numberFields({
          measured: point.measured,
          predicted: point.predicted,
          savings: point.savings,
          cumulative: point.cumulative,
        }).join(',')} ${point.from}`,
    ),
  ];
  const figures = numberFields({
    savings: savings.savings,
    savings_pct: savings.savingsPct,
    uncertainty_68_pct: savings.uncertainty68Pct,
    uncertainty_90_pct: savings.uncertainty90Pct,
    cv_rmse_pct: savings.cvRmsePct,
    nmbe_pct: savings.nmbePct,
    r2: savings.r2,
  });
  lines.push(
    `${SAVINGS_MEASUREMENT},${tags()} ${[
      `status=${stringField(savings.status)}`,
      `reporting_intervals=${savings.reportingIntervals}i`,
      ...figures,
    ].join(',')} ${savings.computedAt}`,
  );
  return lines;
}

/**
 * The M&V series of a use case in its InfluxDB bucket, beside the readings, for the Grafana
 * dashboard: rewritten on every run (a point of the same series and time replaces the last).
 */
export class InfluxMvSeries {
  constructor(private readonly influx: InfluxHttp) {}

  async write(savings: KeptSavings, report: MvReport): Promise<void> {
    const lines = mvLines(savings, report);
    for (let offset = 0; offset < lines.length; offset += MAX_LINES_PER_WRITE)
      await this.influx.write(lines.slice(offset, offset + MAX_LINES_PER_WRITE));
  }
}
