import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedSite } from '../../bench/mv-site.ts';
import { DAY_MS } from '../../core/kpi/kpi.ts';
import type { MvReport } from '../../core/kpi/mv/mv-report.ts';
import type { Opportunity } from '../../core/kpi/mv/opportunities.ts';
import { DuckDbAlertStore } from '../../local/store/duckdb-alert-store.ts';
import { DuckDbStore } from '../../local/store/duckdb-store.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { startConsoleServer } from '../../local/http/console-server.ts';
import { DATABASE_FILE } from '../../local/runtime/runtime.ts';
import { buildConsole } from '../../tools/console-bundle.ts';
import { collectErrors, launchBrowser, screenshot, VIEWPORTS } from '../support/browser.ts';
import { aiot, auditOfKind } from '../support/cli.ts';
import { repoUseCase } from '../support/catalog.ts';
import { startRuntimeOn } from '../support/runtime.ts';

const { contracts } = loadCatalog();
const manifest = repoUseCase('hvac-energy');
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
// The manifest's 21 baseline days, then two weeks of reporting (what recommendations look at)
// ending last midnight.
const BASELINE_FROM = today - 35 * DAY_MS;
const REPORTING_FROM = BASELINE_FROM + 21 * DAY_MS;
let dataDir: string;

/**
 * Four units over five weeks: one runs its fans after hours throughout, one has its schedule
 * overridden until the baseline ends, when it is fixed.
 */
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-mv-'));
  const store = await DuckDbStore.open(path.join(dataDir, DATABASE_FILE), {
    measureColumns: contracts.measureColumns().map((m) => m.column),
  });
  try {
    await DuckDbAlertStore.open(store);
    const site = new SimulatedSite(manifest, contracts.get(manifest.contract), 4, 7);
    site.unit('ahu-001').simulator.inject('fans-after-hours', BASELINE_FROM - DAY_MS);
    site.unit('ahu-002').simulator.inject('schedule-override', BASELINE_FROM - DAY_MS);
    await site.run(store, BASELINE_FROM - DAY_MS / 2, REPORTING_FROM, () => undefined);
    site.unit('ahu-002').simulator.stop('schedule-override');
    await site.run(store, REPORTING_FROM, today, () => undefined);
  } finally {
    await store.close();
  }
}, 120_000);

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** `aiot kpi report` of hvac-energy over the store's last week, with `extra` arguments. */
const report = (...extra: string[]) =>
  aiot(['kpi', 'report', '--use-case', 'hvac-energy', '--days', '7', ...extra, '--data-dir', dataDir]);

describe('savings against a measured baseline, from the CLI', () => {
  it('GIVEN a fault fixed after the baseline THEN the report shows a qualified baseline, the savings with their uncertainty, and the after-hours fans as a recommendation', async () => {
    const run = await report('--format', 'json');
    expect(run.code, run.stderr).toBe(0);
    const { kpis, recommendations } = JSON.parse(run.stdout) as {
      kpis: { kpi: string; mv: MvReport | null }[];
      recommendations: Opportunity[];
    };
    const mv = kpis.find((row) => row.kpi === 'hvac-energy-cost')?.mv;
    expect(mv?.status, mv?.reasons.join('; ')).toBe('qualified');
    expect(mv?.baselinePeriod?.to).toBe(new Date(REPORTING_FROM).toISOString().slice(0, 10));
    expect(mv?.fit?.n).toBe(21);
    expect(mv?.fit?.cvRmsePct).toBeLessThan(30);
    expect(mv?.reporting).toHaveLength(14);
    // One of four units stopped running around the clock: a large share, and well outside its uncertainty.
    expect(mv?.totals?.savingsPct).toBeGreaterThan(10);
    expect(mv?.totals?.uncertainty90Pct).toBeLessThan(50);
    // Rates carry no baseline; the recommendation names the unit still wasting, with its estimate.
    expect(kpis.find((row) => row.kpi === 'energy-per-degree-day')?.mv).toBeNull();
    expect(recommendations.map((found) => `${found.deviceId} ${found.rule}`)).toEqual([
      'ahu-001 fansAfterHours',
    ]);
    expect(recommendations[0]?.kwhPerYear).toBeGreaterThan(1000);

    const table = await report();
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/saved [\d,]+ EUR \(\d+\.\d%\) in 14 days, ± \d+% at 90% confidence/);
    expect(table.stdout).toContain('cooling-change-point on outdoorTemperature, occupancy');
    expect(table.stdout).toContain('ahu-001');

    const out = path.join(dataDir, 'kpis.html');
    expect((await report('--format', 'html', '--out', out)).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<div class="mv qualified">');
    expect(html).toContain('class="measured"');
    expect(html).toContain('<section class="recommendations">');
    expect(html).not.toMatch(/<script|https?:\/\//);
  }, 120_000);
});

describe('savings against a measured baseline, on the console', () => {
  it('GIVEN the same site THEN the use-case page shows the savings with their uncertainty and the recommendation with its estimate, and an engineer accepts it in one tap, on the audit trail', async () => {
    const runtime = await startRuntimeOn(dataDir);
    const server = await startConsoleServer({
      files: await buildConsole(),
      apiPort: runtime.apiPort,
      actor: { name: 'dana', role: 'reliability-engineer' },
      port: 0,
    });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: VIEWPORTS.desktop });
      const errors = collectErrors(page);
      await page.goto(`${server.url}#/use-cases/hvac-energy`);
      const cost = page.locator('.mv[data-kpi="hvac-energy-cost"]');
      await cost
        .getByText(/^saved [\d,]+ EUR \(\d+\.\d%\) in 14 days, ± \d+% at 90% confidence \(± \d+% at 68%\)$/)
        .waitFor();
      expect(await cost.getAttribute('data-status')).toBe('qualified');
      await cost.getByText(/cooling-change-point on outdoorTemperature, occupancy.*CV\(RMSE\)/).waitFor();
      const item = page.locator('[data-recommendation="fansAfterHours/ahu-001"]');
      await item.getByText(/^about [\d,.]+ kWh \([\d,.]+ EUR\) a year/).waitFor();
      await screenshot(page, 'use-case-savings-desktop');

      await item.getByRole('button', { name: 'Accept' }).click();
      await item.getByText('Accepted: recorded on the audit trail').waitFor();
      expect(await auditOfKind(dataDir, 'recommendation-accepted')).toMatchObject([
        {
          actor: { name: 'dana', role: 'reliability-engineer' },
          subject: 'recommendation fansAfterHours/ahu-001',
        },
      ]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
      await runtime.stop();
    }
  }, 120_000);
});
