import * as path from 'node:path';
import { Command, Option } from 'commander';
import { FALSE_POSITIVE_REASONS, type Alert, type Decision } from '../../core/alerts/lifecycle.ts';
import type { Silence } from '../../core/alerts/ports.ts';
import type { DecisionResult } from '../../core/alerts/alert-service.ts';
import { callRuntime } from '../../local/http/runtime-client.ts';
import type { FixSavings } from '../../core/kpi/mv/fix-savings.ts';
import { fixSavingsText } from '../../core/kpi/wording.ts';
import { actorOf, actorOptions, dataDirOption, positiveNumber } from './options.ts';
import { printTable } from './output.ts';
import { replayCommand } from './replay.ts';
import { reportCommand } from './alerts-report.ts';

const formatOption = () =>
  new Option('--format <format>', 'output format').choices(['table', 'json']).default('table');

const minutes = (ms: number) => `${Math.max(0, Math.round(ms / 60_000))} min`;

/** The table's columns, named once: the header does not depend on there being an alert. */
const ALERT_COLUMNS = [
  'id',
  'device',
  'severity',
  'status',
  'delivery',
  'opened',
  'lasted',
  'score/threshold',
  'sensors',
] as const;

function alertRow(alert: Alert): Record<(typeof ALERT_COLUMNS)[number], string> {
  return {
    id: alert.id,
    device: alert.deviceId,
    severity: alert.severity,
    status: alert.status,
    delivery: alert.delivery,
    opened: new Date(alert.openedAt).toISOString().replace('.000Z', 'Z'),
    lasted: minutes((alert.clearedAt ?? alert.lastAnomalyAt) - alert.firstAnomalyAt),
    'score/threshold': `${alert.peakScore.toFixed(1)}/${alert.threshold.toFixed(1)}`,
    sensors: alert.contributors.map((c) => `${c.sensor} ${Math.round(c.share * 100)}%`).join(', '),
  };
}

interface Common {
  dataDir: string;
  user: string;
  role: string;
}

/** One decision subcommand: it sends the decision and prints what it changed. */
function decisionCommand(
  name: string,
  description: string,
  build: (options: Record<string, string | undefined>) => Decision,
  configure: (command: Command) => Command = (command) => command,
): Command {
  const command = configure(
    new Command(name)
      .description(description)
      .argument('<id>', 'the alert id, as `aiot alerts list` shows it')
      .addOption(dataDirOption()),
  );
  return actorOptions(command).action(
    async (id: string, options: Common & Record<string, string | undefined>) => {
      const result = await callRuntime<DecisionResult>(
        path.resolve(options.dataDir),
        'POST',
        `/alerts/${encodeURIComponent(id)}/decisions`,
        { actor: actorOf(options), decision: build(options) },
      );
      console.log(`${result.alert.id}: ${result.alert.status} (by ${options.user}, ${options.role})`);
      if (result.rebaselined) console.log(`${result.alert.deviceId} calibrates a new baseline from now on`);
      if (result.suggestedSilence) {
        const s = result.suggestedSilence;
        console.log(
          `suggested: aiot alerts silence --use-case ${result.alert.useCase} --device ${result.alert.deviceId} --hours ${s.hours} --maintenance --reason "${s.reason}"`,
        );
      }
    },
  );
}

/** `aiot alerts list`: newest first, as a table or JSON. */
function listCommand(): Command {
  return new Command('list')
    .description('alerts, newest first')
    .option('--use-case <id>', 'only this use case')
    .option('--device <id>', 'only this device')
    .option('--status <list>', 'comma-separated: open, acknowledged, resolved, false-positive, confirmed')
    .addOption(
      new Option(
        '--delivery <kind>',
        'digest: the alerts over the shift caps, which interrupted nobody',
      ).choices(['notify', 'digest']),
    )
    .option('--limit <n>', 'at most this many', '100')
    .addOption(formatOption())
    .addOption(dataDirOption())
    .action(
      async (options: {
        useCase?: string;
        device?: string;
        status?: string;
        delivery?: string;
        limit: string;
        format: string;
        dataDir: string;
      }) => {
        const query = new URLSearchParams({
          limit: options.limit,
          ...(options.useCase ? { 'use-case': options.useCase } : {}),
          ...(options.device ? { device: options.device } : {}),
          ...(options.status ? { status: options.status } : {}),
          ...(options.delivery ? { delivery: options.delivery } : {}),
        });
        const { alerts } = await callRuntime<{ alerts: Alert[] }>(
          path.resolve(options.dataDir),
          'GET',
          `/alerts?${query.toString()}`,
        );
        if (options.format === 'json') {
          console.log(JSON.stringify(alerts, null, 2));
          return;
        }
        const rows = alerts.map(alertRow);
        printTable(ALERT_COLUMNS, rows);
        console.log(`${alerts.length} alert${alerts.length === 1 ? '' : 's'}`);
      },
    );
}

/** `aiot alerts show <id>`: one alert and its history. */
function showCommand(): Command {
  return new Command('show')
    .description('one alert with its history: who decided what, when and why')
    .argument('<id>', 'the alert id')
    .addOption(formatOption())
    .addOption(dataDirOption())
    .action(async (id: string, options: { format: string; dataDir: string }) => {
      const alert = await callRuntime<Alert>(
        path.resolve(options.dataDir),
        'GET',
        `/alerts/${encodeURIComponent(id)}`,
      );
      const savings = await callRuntime<FixSavings>(
        path.resolve(options.dataDir),
        'GET',
        `/alerts/${encodeURIComponent(id)}/savings`,
      );
      if (options.format === 'json') {
        console.log(JSON.stringify({ ...alert, savings }, null, 2));
        return;
      }
      printTable(ALERT_COLUMNS, [alertRow(alert)]);
      console.log(
        fixSavingsText(savings, alert.verdict?.kind === 'confirmed' ? alert.verdict.failureMode : undefined),
      );
      printTable(
        ['at', 'from', 'to', 'who', 'role', 'note'],
        alert.history.map((t) => ({
          at: new Date(t.at).toISOString(),
          from: t.from ?? '',
          to: t.to,
          who: t.actor.name,
          role: t.actor.role,
          note: t.note,
        })),
      );
    });
}

/** The answers people give an alert, one subcommand each. */
function decisionCommands(): Command[] {
  return [
    decisionCommand(
      'ack',
      'acknowledge: someone is on it',
      (o) => ({ action: 'acknowledge', note: o.note ?? '' }),
      (c) => c.option('--note <text>', 'a note for the record'),
    ),
    decisionCommand(
      'resolve',
      'resolve: the problem is fixed',
      (o) => ({ action: 'resolve', note: o.note ?? '' }),
      (c) => c.option('--note <text>', 'a note for the record'),
    ),
    decisionCommand(
      'false-positive',
      'close as a false positive; the reason decides what it teaches (new-normal re-baselines the device)',
      (o) => ({
        action: 'false-positive',
        reason: (o.reason ?? 'other') as (typeof FALSE_POSITIVE_REASONS)[number],
        note: o.note ?? '',
      }),
      (c) =>
        c
          .addOption(
            new Option('--reason <code>', 'why it is not a fault')
              .choices(FALSE_POSITIVE_REASONS)
              .makeOptionMandatory(),
          )
          .option('--note <text>', 'a note for the record'),
    ),
    decisionCommand(
      'confirm',
      'confirm a real fault: it becomes a labelled example for the next model',
      (o) => ({
        action: 'confirm',
        failureMode: o.failureMode ?? '',
        ...(o.workOrder ? { workOrder: o.workOrder } : {}),
        note: o.note ?? '',
      }),
      (c) =>
        c
          .requiredOption('--failure-mode <text>', 'what failed, e.g. "bearing wear"')
          .option('--work-order <ref>', 'the maintenance work order')
          .option('--note <text>', 'a note for the record'),
    ),
    decisionCommand('undo', 'take back your last decision on the alert (within 10 s)', () => ({
      action: 'undo',
    })),
  ];
}

/** `aiot alerts silence`: interrupt nobody about a device, group or use case for a while. */
function silenceCommand(): Command {
  return actorOptions(
    new Command('silence')
      .description(
        'interrupt nobody about a device, group or use case for a while; --maintenance also re-baselines after it',
      )
      .requiredOption('--use-case <id>', 'the use case')
      .option('--device <id>', 'one device')
      .option('--group <name>', 'a group of the use case’s alerts.groups')
      .option('--all', 'the whole use case')
      .option('--hours <n>', 'from now, for this many hours', positiveNumber('--hours', 24 * 31))
      .option('--from <time>', 'start (ISO 8601), default now')
      .option('--until <time>', 'end (ISO 8601), instead of --hours')
      .option('--maintenance', 'a maintenance window: its devices re-baseline when it ends')
      .requiredOption('--reason <text>', 'why')
      .addOption(dataDirOption()),
  ).action(
    async (
      options: Common & {
        useCase: string;
        device?: string;
        group?: string;
        all?: boolean;
        hours?: number;
        from?: string;
        until?: string;
        maintenance?: boolean;
        reason: string;
      },
    ) => {
      const scopes = [options.device, options.group, options.all].filter((x) => x !== undefined);
      if (scopes.length !== 1) throw new Error('name exactly one of --device, --group or --all');
      if ((options.hours === undefined) === (options.until === undefined))
        throw new Error('give --hours or --until');
      const from = options.from ? Date.parse(options.from) : Date.now();
      if (Number.isNaN(from)) throw new Error(`--from must be an ISO 8601 time, got "${options.from ?? ''}"`);
      const to = options.until ? Date.parse(options.until) : from + (options.hours ?? 0) * 3600_000;
      if (Number.isNaN(to)) throw new Error(`--until must be an ISO 8601 time, got "${options.until ?? ''}"`);
      const silence = await callRuntime<Silence>(path.resolve(options.dataDir), 'POST', '/silences', {
        actor: actorOf(options),
        useCase: options.useCase,
        scope: options.device
          ? { kind: 'device', deviceId: options.device }
          : options.group
            ? { kind: 'group', group: options.group }
            : { kind: 'use-case' },
        kind: options.maintenance ? 'maintenance' : 'silence',
        from,
        to,
        reason: options.reason,
      });
      console.log(
        `${silence.id}: ${silence.kind} of ${options.device ?? options.group ?? options.useCase} from ${new Date(silence.from).toISOString()} to ${new Date(silence.to).toISOString()}`,
      );
    },
  );
}

/** `aiot alerts silences`: the silences and maintenance windows. */
function silencesCommand(): Command {
  return new Command('silences')
    .description('silences and maintenance windows')
    .option('--use-case <id>', 'only this use case')
    .addOption(formatOption())
    .addOption(dataDirOption())
    .action(async (options: { useCase?: string; format: string; dataDir: string }) => {
      const { silences } = await callRuntime<{ silences: Silence[] }>(
        path.resolve(options.dataDir),
        'GET',
        `/silences${options.useCase ? `?use-case=${encodeURIComponent(options.useCase)}` : ''}`,
      );
      if (options.format === 'json') {
        console.log(JSON.stringify(silences, null, 2));
        return;
      }
      printTable(
        ['id', 'kind', 'scope', 'from', 'to', 'by', 'reason'],
        silences.map((s) => ({
          id: s.id,
          kind: s.kind,
          scope:
            s.scope.kind === 'device'
              ? s.scope.deviceId
              : s.scope.kind === 'group'
                ? s.scope.group
                : s.useCase,
          from: new Date(s.from).toISOString(),
          to: new Date(s.to).toISOString(),
          by: `${s.createdBy.name} (${s.createdBy.role})`,
          reason: s.reason,
        })),
      );
    });
}

export function alertsCommand(): Command {
  const command = new Command('alerts').description(
    'alerts of the running local runtime: list them, answer them, silence devices, replay a policy, report the alarm load',
  );
  for (const sub of [
    listCommand(),
    showCommand(),
    ...decisionCommands(),
    silenceCommand(),
    silencesCommand(),
    replayCommand(),
    reportCommand(),
  ])
    command.addCommand(sub);
  return command;
}
