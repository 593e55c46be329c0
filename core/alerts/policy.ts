import { z } from 'zod';

/**
 * When a person is interrupted: the `alerts:` section of a use-case manifest. Every field has a
 * default, so a manifest without the section still gets a policy tuned against alarm floods.
 */
const severityRuleSchema = z.strictObject({
  /** Peak score at least this many times the threshold. */
  scoreRatio: z.number().gt(1),
  /** Or open at least this long. */
  afterSeconds: z.int().min(1),
});

export const alertPolicySchema = z.strictObject({
  /** An alert opens only once the anomaly persists: this many anomalous readings within the window. */
  open: z
    .strictObject({
      anomalousReadings: z.int().min(1).max(100_000).default(30),
      withinSeconds: z.int().min(1).max(86_400).default(60),
    })
    .default({ anomalousReadings: 30, withinSeconds: 60 }),
  /** Hysteresis: the condition clears (and the system resolves the alert) after this long without an anomalous reading. */
  clearAfterSeconds: z
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(300),
  /** After a condition clears, the same device and inference may not open an alert for this long. */
  cooldownSeconds: z
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(900),
  severity: z
    .strictObject({
      major: severityRuleSchema.default({ scoreRatio: 2, afterSeconds: 1800 }),
      critical: severityRuleSchema.default({ scoreRatio: 4, afterSeconds: 4 * 3600 }),
    })
    .default({
      major: { scoreRatio: 2, afterSeconds: 1800 },
      critical: { scoreRatio: 4, afterSeconds: 4 * 3600 },
    }),
  /** Alerts beyond these per shift go to the shift's digest instead of interrupting anyone. */
  caps: z
    .strictObject({
      shiftHours: z.int().min(1).max(24).default(8),
      /** Local time the first shift of a day starts, "HH:MM". */
      shiftStart: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like "06:00"')
        .default('06:00'),
      /** IANA time zone of the plant, e.g. "Europe/Berlin". */
      timeZone: z
        .string()
        .refine(isTimeZone, { message: 'must be an IANA time zone like "Europe/Berlin"' })
        .default('UTC'),
      perDevice: z.int().min(1).max(10_000).default(3),
      perUseCase: z.int().min(1).max(1_000_000).default(30),
    })
    .default({ shiftHours: 8, shiftStart: '06:00', timeZone: 'UTC', perDevice: 3, perUseCase: 30 }),
  /** Alerts of one group opened within this window go out as one notification. */
  groupWindowSeconds: z.int().min(0).max(3600).default(120),
  /**
   * Device groups (a site, a line) by name: device ids, `*` matching any characters. Groups
   * bundle notifications and take silences; a device in no group is in the use case's group.
   */
  groups: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case kebab-case'),
      z.array(z.string().min(1).max(128)).min(1),
    )
    .default({}),
  /** Calibration of each device's baseline. */
  calibrationReadings: z.int().min(30).max(1_000_000).default(400),
});

export type AlertPolicy = z.output<typeof alertPolicySchema>;

export const DEFAULT_ALERT_POLICY: AlertPolicy = alertPolicySchema.parse({});

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** The group a device belongs to: the first group listing it, else the use case itself. */
export function groupOf(policy: AlertPolicy, useCase: string, deviceId: string): string {
  for (const [group, patterns] of Object.entries(policy.groups)) {
    if (patterns.some((pattern) => globToRegExp(pattern).test(deviceId))) return group;
  }
  return useCase;
}

/** Start (epoch ms) of the shift `at` falls in, in the plant's time zone. */
export function shiftStartOf(policy: AlertPolicy, at: number): number {
  const { shiftHours, shiftStart, timeZone } = policy.caps;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(at))
      .map((part) => [part.type, part.value]),
  );
  const local = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  const offset = local - Math.floor(at / 1000) * 1000;
  const [hours = 0, minutes = 0] = shiftStart.split(':').map(Number);
  const firstOfDay = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), hours, minutes);
  const shiftMs = shiftHours * 3600_000;
  const since = local - firstOfDay;
  const startLocal = firstOfDay + Math.floor(since / shiftMs) * shiftMs;
  return startLocal - offset;
}
