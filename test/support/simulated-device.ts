import * as path from 'node:path';
import type { DataContract } from '../../core/contracts/contract.ts';
import { resolveEdgeSettings } from '../../core/edge/settings.ts';
import { telemetryTopic } from '../../core/ingest/topics.ts';
import { deviceSimulator, simulatedThingName } from '../../core/simulation/device-simulator.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { EdgeAgent, type EdgeAgentStatus } from '../../edge/agent.ts';
import { simulatorSource } from '../../edge/sources.ts';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';

/** 00:00 UTC of the Monday on or before `time`. */
export function lastMondayBefore(time: number): number {
  const day = new Date(time);
  const midnight = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
  return midnight - ((day.getUTCDay() + 6) % 7) * 86_400_000;
}

/**
 * Sends the use case's first simulated device to a runtime through a real edge agent over mutual
 * TLS, as a time-lapse of `count` samples `stepMs` apart from `startAt`, with the declared fault
 * `fault.id` from `fault.at` on; then stops the agent. `drained` says whether it sent everything.
 */
export async function sendSimulatedDevice(
  runtime: LocalRuntime,
  manifest: UseCaseManifest,
  contract: DataContract,
  options: {
    readonly seed: number;
    readonly startAt: number;
    readonly stepMs: number;
    readonly count: number;
    readonly rate: number;
    readonly fault: { readonly id: string; readonly at: number };
    readonly dataDir: string;
    readonly firmware: string;
    readonly hardwareGeneration: string;
  },
): Promise<{ thing: string; drained: boolean; status: EdgeAgentStatus }> {
  const thing = simulatedThingName(0, manifest.simulation?.thingPrefix);
  const pair = await runtime.ca.devicePair(thing);
  const simulator = deviceSimulator(manifest, contract, options.seed);
  let faulted = false;
  const agent = EdgeAgent.start({
    identity: {
      thing,
      firmware: options.firmware,
      hardwareGeneration: options.hardwareGeneration,
      origin: 'simulated',
    },
    contract,
    settings: resolveEdgeSettings(manifest.edge, thing),
    connection: {
      url: runtime.mqttUrl,
      ca: runtime.ca.caPem,
      cert: pair.cert,
      key: pair.key,
      topic: telemetryTopic(manifest.id, thing),
    },
    dataDir: path.join(options.dataDir, 'edge'),
    fsync: 'never',
  });
  await agent.run(
    simulatorSource({
      thing,
      rate: options.rate,
      stepMs: options.stepMs,
      startAt: options.startAt,
      count: options.count,
      simulator: {
        next: (time, dt) => {
          if (!faulted && time >= options.fault.at) {
            simulator.inject(options.fault.id, time);
            faulted = true;
          }
          return simulator.next(time, dt);
        },
      },
    }),
  );
  const drained = await agent.drained(60_000);
  return { thing, drained, status: await agent.stop() };
}
