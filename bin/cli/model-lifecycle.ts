import * as path from 'node:path';
import { Command, Option } from 'commander';
import { approve, reject, rollback, type ModelRegistry } from '../../core/model/registry.ts';
import { FileAuditLog } from '../../local/files/audit-log.ts';
import { FileModelRegistry } from '../../local/scoring/model-registry.ts';
import { loadUseCases } from '../../usecases/catalog.ts';
import { actorOf, actorOptions, dataDirOption } from './options.ts';
import { printTable } from './output.ts';

interface LifecycleOptions {
  useCase: string;
  version?: string;
  reason: string;
  dataDir: string;
  user: string;
  role: string;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function registryOf(options: { useCase: string; dataDir: string }): FileModelRegistry {
  const known = loadUseCases().map((u) => u.id);
  if (!known.includes(options.useCase)) {
    throw new Error(`unknown use case "${options.useCase}" (${known.join(', ')})`);
  }
  return FileModelRegistry.inDataDir(path.resolve(options.dataDir), options.useCase);
}

function lifecycle(
  name: string,
  description: string,
  step: (
    registry: ModelRegistry,
    options: LifecycleOptions,
    at: number,
  ) => ReturnType<typeof reject> | ReturnType<typeof approve>,
  needsVersion: boolean,
): Command {
  const command = new Command(name)
    .description(description)
    .requiredOption('--use-case <id>', 'the use case')
    .requiredOption('--reason <text>', 'why, kept in the registry and the audit trail');
  if (needsVersion) command.requiredOption('--version <version>', 'the model version (aiot model list)');
  return actorOptions(command.addOption(dataDirOption())).action(async (options: LifecycleOptions) => {
    const files = registryOf(options);
    const registry = await files.change(
      (state) => {
        const result = step(state, options, Date.now());
        return { registry: result.registry, events: 'events' in result ? result.events : [result.event] };
      },
      FileAuditLog.inDataDir(path.resolve(options.dataDir)),
    );
    console.log(
      `${options.useCase}: live model ${registry.live ?? 'none'} (a running runtime picks it up within seconds)`,
    );
  });
}

/** `aiot model list|approve|reject|rollback`: the use case's model versions and who decided what. */
export function modelLifecycleCommands(): Command[] {
  const list = new Command('list')
    .description(
      "the use case's model versions, their status, who trained and who decided, and which is live",
    )
    .requiredOption('--use-case <id>', 'the use case')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dataDirOption())
    .action((options: { useCase: string; format: string; dataDir: string }) => {
      const registry = registryOf(options).read();
      if (options.format === 'json') {
        console.log(JSON.stringify(registry, null, 2));
        return;
      }
      if (registry.versions.length === 0) {
        console.log(`${options.useCase} has no model yet: npm start trains one`);
        return;
      }
      printTable(
        ['version', 'status', 'trained by', 'trained (UTC)', 'last decision', 'live'],
        registry.versions.map((v) => {
          const last = v.decisions.at(-1);
          return {
            version: v.version,
            status: v.status,
            'trained by': `${v.trainedBy.name} (${v.trainedBy.role})`,
            'trained (UTC)': day(v.trainedAt),
            'last decision': last ? `${last.action} by ${last.actor.name}: ${last.reason}` : '',
            live: v.version === registry.live ? 'LIVE' : '',
          };
        }),
      );
    });
  return [
    list,
    lifecycle(
      'approve',
      'make a pending version live; the person who trained it may not (four eyes)',
      (state, o, at) => approve(state, o.version ?? '', actorOf(o), o.reason, at),
      true,
    ),
    lifecycle(
      'reject',
      'a pending version never goes live',
      (state, o, at) => reject(state, o.version ?? '', actorOf(o), o.reason, at),
      true,
    ),
    lifecycle(
      'rollback',
      'take the live version back: the one live before it scores again',
      (state, o, at) => rollback(state, actorOf(o), o.reason, at),
      false,
    ),
  ];
}
