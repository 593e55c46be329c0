import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import { startConsoleServer } from '../../local/http/console-server.ts';
import { callRuntime } from '../../local/http/runtime-client.ts';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { buildConsole } from '../../tools/console-bundle.ts';
import { collectErrors, launchBrowser, screenshot, VIEWPORTS } from '../support/browser.ts';
import { normal, PUMP_CALIBRATION, TestPump, worn } from '../support/pump.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { waitFor } from '../support/wait.ts';

const DEVICE = 'pump-401';
const CALIBRATION = PUMP_CALIBRATION;
const FAULT = 240;
let runtime: LocalRuntime;
let dataDir: string;
let stopRuntime: () => Promise<void>;
let browser: Browser;
const consoles: { url: string; close(): Promise<void> }[] = [];

async function openConsole(actor: { name: string; role: 'operator' | 'analyst' }) {
  const server = await startConsoleServer({
    files: await buildConsole(),
    apiPort: runtime.apiPort,
    actor,
    port: 0,
  });
  consoles.push(server);
  return server.url;
}

/** A page of a fresh context: in British English, or (locale undefined) in the browser's own language. */
async function newPage(
  viewport: { width: number; height: number },
  locale: string | undefined = 'en-GB',
): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, hasTouch: true, ...(locale ? { locale } : {}) });
  const page = await context.newPage();
  return { page, errors: collectErrors(page) };
}

beforeAll(async () => {
  ({ runtime, dataDir, stop: stopRuntime } = await startTestRuntime('aiot-console-'));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser.close();
  for (const server of consoles) await server.close();
  await stopRuntime();
});

describe('operator console, end to end in a real browser', () => {
  it('GIVEN a pump that develops a fault WHEN an operator taps false positive with a reason THEN the alert appeared live, its plot drew, and the store keeps the verdict with who gave it', async () => {
    const url = await openConsole({ name: 'olu', role: 'operator' });
    // Device time ends about now, so the console's clocks read as a shift would.
    const pump = new TestPump(runtime, DEVICE, 401, Date.now() - (CALIBRATION + FAULT) * 1000);
    await pump.publish(CALIBRATION + 20, normal);

    const { page, errors } = await newPage(VIEWPORTS.desktop);
    // Nothing the pages load fails: no /favicon.ico 404 either.
    const failed: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(url);
    await page.getByText('Nothing needs an answer.').waitFor();
    // A mark on this document: if the page reloaded, it would be gone.
    await page.evaluate("document.body.dataset.loadedOnce = 'yes'");

    await pump.publish(FAULT - 20, worn);
    const card = page.locator(`article.alert:has(a.device:text-is("${DEVICE}"))`);
    await card.waitFor({ timeout: 45_000 });
    expect(await page.evaluate('document.body.dataset.loadedOnce')).toBe('yes');
    await expect.poll(() => card.locator('.contributors').textContent()).toContain('vibrationRmsX');

    // The plot of the contributing sensors, with the device's baseline marked, and the score.
    const plot = card.locator('.plot-slot[data-state="drawn"]');
    await plot.waitFor({ timeout: 20_000 });
    expect(await plot.locator('canvas').count()).toBe(2);
    expect(await plot.locator('figcaption').allTextContents()).toEqual([
      expect.stringMatching(/^Contributing sensors, distance from this device's baseline v1$/),
      'Anomaly score',
    ]);
    const legend = await plot.locator('.u-legend').first().textContent();
    expect(legend).toContain('vibrationRmsX');
    expect(legend).toContain('baseline');
    const scoreLegend = await plot.locator('.u-legend').nth(1).textContent();
    expect(scoreLegend).toContain('threshold');

    // Gloves: every action is a big target, never behind a hover.
    for (const button of await card.locator('.actions button').all()) {
      const box = await button.boundingBox();
      expect(box?.height ?? 0).toBeGreaterThanOrEqual(48);
    }
    await screenshot(page, 'inbox-desktop');
    await page.setViewportSize(VIEWPORTS.phone);
    await screenshot(page, 'inbox-phone');
    await page.setViewportSize(VIEWPORTS.desktop);

    // From the keyboard, the actions come in order; "False positive" opens its reasons with Enter.
    await card.getByRole('button', { name: 'Acknowledge' }).focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('False positive');
    await page.keyboard.press('Enter');
    await card.locator('button[data-reason="sensor-fault"]').waitFor();
    // Escape closes the reasons and returns to the button; Enter opens them again.
    await page.keyboard.press('Escape');
    await card.locator('.sheet').waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement.textContent')).toBe('False positive');
    await page.keyboard.press('Enter');
    await card.locator('button[data-reason="sensor-fault"]').waitFor();
    await screenshot(page, 'inbox-reasons-desktop');
    await page.keyboard.press('Escape');

    // On a phone, two taps: "False positive" brings its reasons into view with the first one
    // focused (a focused text field would pop the keyboard up over them), then one reason.
    await page.setViewportSize(VIEWPORTS.phone);
    await page.evaluate('window.scrollTo(0, 0)');
    await card.getByRole('button', { name: 'False positive' }).tap();
    const reason = card.locator('button[data-reason="sensor-fault"]');
    await reason.waitFor();
    expect(await page.evaluate("document.activeElement?.matches('button.reason')")).toBe(true);
    for (const button of await card.locator('button.reason').all()) {
      const box = await button.boundingBox();
      expect(box).not.toBeNull();
      expect((box?.y ?? -1) >= 0 && (box?.y ?? 0) + (box?.height ?? 0) <= VIEWPORTS.phone.height).toBe(true);
    }
    await screenshot(page, 'inbox-reasons-phone');
    await reason.tap();
    await page.getByRole('button', { name: /^Undo \(\d+ s\)$/ }).waitFor();

    const [alert] = await waitFor('the verdict in the store', async () => {
      const { alerts } = await callRuntime<{ alerts: Alert[] }>(dataDir, 'GET', `/alerts?device=${DEVICE}`);
      return alerts[0]?.status === 'false-positive' ? alerts : undefined;
    });
    expect(alert?.verdict).toMatchObject({ kind: 'false-positive', reason: 'sensor-fault' });
    expect(alert?.history.at(-1)).toMatchObject({
      to: 'false-positive',
      actor: { name: 'olu', role: 'operator' },
    });
    const { rows: feedback } = await runtime.store.query(
      `SELECT label, detail, actor, role FROM feedback WHERE device_id = '${DEVICE}'`,
    );
    expect(feedback).toEqual([
      { label: 'sensor-fault', detail: 'sensor-fault', actor: 'olu', role: 'operator' },
    ]);
    // Answered alerts leave the inbox without a reload.
    await card.waitFor({ state: 'detached' });
    await page.setViewportSize(VIEWPORTS.desktop);

    for (const [name, route] of [
      ['fleet', '#/fleet'],
      ['device', `#/devices/pump-maintenance/${DEVICE}`],
      ['use-case', '#/use-cases/pump-maintenance'],
    ] as const) {
      await page.goto(`${url}${route}`);
      await page.locator('main[aria-busy="false"]').waitFor();
      await page
        .locator('canvas')
        .first()
        .waitFor({ state: 'attached', timeout: 10_000 })
        .catch(() => undefined);
      if (name === 'fleet') {
        const row = page.locator(`tr[data-device="${DEVICE}"]`);
        await expect.poll(() => row.locator('td[data-label="Online"]').textContent()).toBe('● online');
        expect(await row.locator('td[data-label="Scoring"]').textContent()).toBe('monitoring');
        expect(await row.locator('td[data-label="Baseline"]').textContent()).toBe('v1');
      }
      // One tab at most looks current, the page's own (each use case has a tab; a device has none).
      expect(await page.locator('nav a[aria-current="page"]').count()).toBe(name === 'device' ? 0 : 1);
      if (name === 'use-case') {
        // The KPI cards say where each KPI stands: this store is minutes old.
        const card = page.locator('article.kpi[data-kpi="unplanned-downtime"] .kpi-now');
        expect(await card.getAttribute('data-status')).toBe('too little data');
        expect(await card.textContent()).toContain('too little data (0 of 7 full days)');
        // The day's alarm load against ISA-18.2, with the device whose alert it was as a bad actor.
        const measures = page.locator('table[data-table="alarm-measures"] tbody tr');
        expect(await measures.count()).toBe(8);
        expect(await page.locator('.alarm-status[data-met="false"]').count()).toBe(0);
        expect(
          await page.locator('table[data-table="bad-actors"] td[data-label="Device"]').allTextContents(),
        ).toContain(DEVICE);
        // The model versions: the one npm start trained is live.
        expect(await page.locator('table[data-table="model-versions"] tr[data-status="live"]').count()).toBe(
          1,
        );
      }
      if (name === 'device') {
        // The score and each of the manifest's eight sensors, drawn from the store.
        await expect.poll(() => page.locator('.device-charts canvas').count()).toBe(9);
        await expect.poll(() => page.getByText('olu (operator)').count()).toBe(2);
      }
      for (const [size, viewport] of Object.entries(VIEWPORTS)) {
        await page.setViewportSize(viewport);
        await screenshot(page, `${name}-${size}`);
      }
      await page.setViewportSize(VIEWPORTS.desktop);
    }
    await expect.poll(() => page.locator('.trust .big-number').textContent()).toBe('100%');
    expect(errors).toEqual([]);
    expect(failed).toEqual([]);
    // The pump's calibration (1,800 readings) is scored before the fault shows: about 20 s
    // alone, more on a busy CI machine.
  }, 120_000);

  it('GIVEN an analyst WHEN they open the inbox THEN they read alerts but are offered no action', async () => {
    const url = await openConsole({ name: 'ana', role: 'analyst' });
    // The browser's own language: on a machine with LANG=C it is one Intl refuses ("en-US@posix").
    const { page, errors } = await newPage(VIEWPORTS.phone, undefined);
    await page.goto(`${url}#/inbox`);
    await page.getByRole('tab', { name: 'Answered' }).click();
    const card = page.locator(`article.alert:has(a.device:text-is("${DEVICE}"))`);
    await card.waitFor();
    expect(await card.locator('.verdict').textContent()).toBe(
      'False positive: Sensor fault by olu (operator)',
    );
    expect(await page.locator('.actions').count()).toBe(0);
    expect(await page.locator('.who').textContent()).toContain('ana · analyst');
    expect(errors).toEqual([]);
  });
});
