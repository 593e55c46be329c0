import { describe, expect, it } from 'vitest';
import { emptyTrack, evaluate, type AlertTrack } from '../../core/alerts/engine.ts';
import { alertPolicySchema, groupOf, shiftStartOf } from '../../core/alerts/policy.ts';
import { repeat, scripted } from '../support/inferences.ts';

const policy = alertPolicySchema.parse({
  open: { anomalousReadings: 5, withinSeconds: 10 },
  clearAfterSeconds: 20,
  cooldownSeconds: 60,
  severity: { major: { scoreRatio: 3, afterSeconds: 30 }, critical: { scoreRatio: 10, afterSeconds: 120 } },
  groups: { 'line-1': ['pump-00*'] },
});
const start = emptyTrack('uc', 'p1', 'pump-anomaly');
const noSilence = () => undefined;
const kinds = (events: { kind: string }[]) => events.map((e) => e.kind);

function run(script: string, track: AlertTrack = start, from = 0) {
  return evaluate(policy, track, scripted(script, from), noSilence);
}

describe('alert engine', () => {
  it('GIVEN scattered anomalies WHEN fewer than N fall within the window THEN nothing opens', () => {
    // 4 anomalies in every 10 s, never 5.
    expect(run(repeat('A..A..A..A.......', 6)).events).toEqual([]);
  });

  it('GIVEN a persisting anomaly WHEN the Nth anomalous reading falls within the window THEN one alert opens at that reading', () => {
    const { events, track } = run(`.....${repeat('A', 30)}`);
    expect(kinds(events)).toEqual(['open', 'progress']);
    const open = events[0];
    expect(open?.kind === 'open' && open.episode).toMatchObject({
      openedAt: 9000,
      firstAnomalyAt: 5000,
      peakScore: 20,
      peakRatio: 2,
      severity: 'warning',
      contributors: [{ sensor: 'flow', share: 0.8 }],
    });
    expect(track.episode?.lastAnomalyAt).toBe(34_000);
  });

  it('GIVEN an open condition WHEN it flickers shorter than the quiet period THEN it stays one alert, and it clears only after the quiet period', () => {
    const flicker = `${repeat('A', 10)}${repeat('.', 15)}${repeat('A', 10)}${repeat('.', 19)}`;
    const first = run(flicker);
    // Open 30 s by its last anomaly: major.
    expect(kinds(first.events)).toEqual(['open', 'escalate', 'progress']);
    // One more quiet second makes 20 s: the condition clears at the last anomaly + 20 s.
    const cleared = run('.', first.track, flicker.length);
    expect(cleared.events).toEqual([
      { kind: 'clear', alertId: first.track.episode?.alertId, at: 54_000, lastAnomalyAt: 34_000 },
    ]);
    expect(cleared.track.episode).toBeUndefined();
  });

  it('GIVEN a cleared condition WHEN the anomaly returns within the cooldown THEN it is suppressed once, and after the cooldown it opens again', () => {
    const episode = run(`${repeat('A', 10)}${repeat('.', 21)}`);
    expect(kinds(episode.events)).toEqual(['open', 'progress', 'clear']);
    const during = run(repeat('A', 20), episode.track, 40);
    expect(during.events).toEqual([
      {
        kind: 'suppressed',
        rule: 'cooldown',
        ref: 'cooldown until 1970-01-01T00:01:29.000Z',
        at: 44_000,
        score: 20,
      },
    ]);
    // Cleared at 29 s, cooldown 60 s: from 89 s on it may open.
    const after = run(repeat('A', 10), during.track, 85);
    expect(kinds(after.events)).toEqual(['open', 'progress']);
    expect(after.events[0]?.kind === 'open' && after.events[0].episode.openedAt).toBe(89_000);
  });

  it('GIVEN a silence WHEN the anomaly persists THEN no alert opens, the suppression is reported once, and after the silence an alert opens', () => {
    const silenceAt = (time: number) => (time < 30_000 ? { id: 'sil-1' } : undefined);
    const { events } = evaluate(policy, start, scripted(repeat('A', 40)), silenceAt);
    expect(kinds(events)).toEqual(['suppressed', 'open', 'progress']);
    expect(events[0]).toMatchObject({ rule: 'silence', ref: 'sil-1', at: 4000 });
    expect(events[1]?.kind === 'open' && events[1].episode.openedAt).toBe(30_000);
  });

  it('GIVEN calibrating or warming-up readings WHEN they score high THEN they never open an alert', () => {
    expect(run(`${repeat('c', 50)}${repeat('w', 50)}`).events).toEqual([]);
  });

  it('GIVEN an open alert WHEN it lasts or peaks THEN its severity escalates once per level', () => {
    // 3.5 x threshold at 20 s: major.
    const readings = scripted(repeat('A', 150)).map((r, i) => (i === 20 ? { ...r, score: 35 } : r));
    const { events } = evaluate(policy, start, readings, noSilence);
    expect(events.filter((e) => e.kind === 'escalate')).toEqual([
      { kind: 'escalate', alertId: expect.any(String) as unknown, severity: 'major', at: 20_000 },
      // Open since 4 s; 120 s later: critical.
      { kind: 'escalate', alertId: expect.any(String) as unknown, severity: 'critical', at: 124_000 },
    ]);
  });

  it('gives the same alert id for the same episode, so a redelivered batch opens nothing new', () => {
    const once = run(repeat('A', 10));
    const again = run(repeat('A', 10));
    expect(once.events[0]).toEqual(again.events[0]);
    expect(once.track.episode?.alertId).toBe('uc:p1:pump-anomaly:1970-01-01T00:00:04.000Z');
  });
});

describe('alert policy', () => {
  it('applies defaults that suit a 1 Hz pump', () => {
    expect(alertPolicySchema.parse({})).toMatchObject({
      open: { anomalousReadings: 30, withinSeconds: 60 },
      clearAfterSeconds: 300,
      cooldownSeconds: 900,
      caps: { perDevice: 3, perUseCase: 30, shiftHours: 8 },
      calibrationReadings: 400,
    });
  });

  it('rejects a bad time zone or shift start, naming the value', () => {
    const result = alertPolicySchema.safeParse({ caps: { timeZone: 'Mars/Olympus', shiftStart: '6am' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'caps.shiftStart: must be a time like "06:00"',
      'caps.timeZone: must be an IANA time zone like "Europe/Berlin"',
    ]);
  });

  it('finds a device group by pattern, else the use case', () => {
    expect(groupOf(policy, 'uc', 'pump-001')).toBe('line-1');
    expect(groupOf(policy, 'uc', 'pump-101')).toBe('uc');
  });

  it('finds the start of the shift in the plant time zone', () => {
    const berlin = alertPolicySchema.parse({
      caps: { timeZone: 'Europe/Berlin', shiftStart: '06:00', shiftHours: 8 },
    });
    // 2026-07-01 15:30 in Berlin (UTC+2) is in the 14:00-22:00 shift, which starts 12:00 UTC.
    expect(new Date(shiftStartOf(berlin, Date.UTC(2026, 6, 1, 13, 30))).toISOString()).toBe(
      '2026-07-01T12:00:00.000Z',
    );
    // 03:00 Berlin is in the night shift that started 22:00 the day before (20:00 UTC).
    expect(new Date(shiftStartOf(berlin, Date.UTC(2026, 6, 2, 1, 0))).toISOString()).toBe(
      '2026-07-01T20:00:00.000Z',
    );
  });
});
