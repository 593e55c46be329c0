import * as path from 'node:path';
import { Command, Option } from 'commander';
import { callRuntime } from '../../local/runtime-client.ts';
import type { DeviceSummary } from '../../core/operators/views.ts';
import { actorOf, actorOptions, dataDirOption } from './options.ts';
import { printTable } from './output.ts';

export function devicesCommand(): Command {
  const command = new Command('devices').description(
    'devices of the running local runtime and their baselines',
  );
  command
    .command('list')
    .description('each device: calibrating or monitoring, and its baseline version')
    .option('--use-case <id>', 'only this use case')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dataDirOption())
    .action(async (options: { useCase?: string; format: string; dataDir: string }) => {
      const { devices } = await callRuntime<{ devices: DeviceSummary[] }>(
        path.resolve(options.dataDir),
        'GET',
        `/devices${options.useCase ? `?use-case=${encodeURIComponent(options.useCase)}` : ''}`,
      );
      if (options.format === 'json') {
        console.log(JSON.stringify(devices, null, 2));
        return;
      }
      printTable(
        ['use case', 'device', 'state', 'baseline', 'why', 'calibration'],
        devices.map((d) => ({
          'use case': d.useCase,
          device: d.deviceId,
          state: d.state,
          baseline: d.baselineVersion === null ? '' : `v${d.baselineVersion}`,
          why: d.baselineReason ?? '',
          calibration: d.calibration
            ? `${d.calibration.reason}: ${d.calibration.collected} readings since ${d.calibration.since}`
            : '',
        })),
      );
    });
  actorOptions(
    command
      .command('rebaseline')
      .description('start a new calibration of a device: its normal changed (a repair, a new duty point)')
      .requiredOption('--use-case <id>', 'the use case')
      .requiredOption('--device <id>', 'the device')
      .requiredOption('--reason <text>', 'why, kept with the new baseline')
      .addOption(dataDirOption()),
  ).action(
    async (options: {
      useCase: string;
      device: string;
      reason: string;
      dataDir: string;
      user: string;
      role: string;
    }) => {
      const device = await callRuntime<DeviceSummary>(
        path.resolve(options.dataDir),
        'POST',
        `/devices/${encodeURIComponent(options.useCase)}/${encodeURIComponent(options.device)}/rebaseline`,
        { actor: actorOf(options), note: options.reason },
      );
      console.log(
        `${device.deviceId}: calibrating a new baseline from now on (${device.calibration?.reason ?? ''}); it raises no alerts until then`,
      );
    },
  );
  return command;
}
