import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { DataContract } from '../../core/contracts/contract.ts';
import { resolveEdgeSettings } from '../../core/edge/settings.ts';
import {
  healthTopic,
  telemetryTopic,
  MAX_PUBLISHES_PER_CONNECTION_PER_SECOND,
} from '../../core/ingest/topics.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { EdgeAgent, type EdgeAgentStatus } from '../../edge/agent.ts';
import { simulatorSource, type ReadingSource } from '../../edge/sources.ts';
import {
  type DeviceSimulator,
  deviceSimulator,
  simulatedThingName,
  simulatedThingPrefix,
} from '../../core/simulation/device-simulator.ts';
import { historySeconds } from '../../core/simulation/history.ts';
import type { LocalCertificateAuthority } from '../broker/certs.ts';
import { historySource, sourcesInTurn } from './history.ts';

export interface SimulatedFleetOptions {
  readonly url: string;
  readonly ca: LocalCertificateAuthority;
  readonly useCase: UseCaseManifest;
  /** The contract version the simulated devices send: the use case's current one. */
  readonly contract: DataContract;
  readonly devices: number;
  /** Readings per second per device. */
  readonly rate: number;
  /** Where each device keeps its store-and-forward queue: `<dataDir>/<thing>`. */
  readonly dataDir: string;
  readonly seed?: number;
  /** @default 60 s */
  readonly healthIntervalMs?: number;
  /**
   * Devices new to `dataDir` first send the past their calibration needs (the manifest's
   * `alerts.calibrationReadings`, whatever their edge filters thin), as a device back from an
   * outage sends its buffer: they are calibrated within a minute instead of after it. @default false
   */
  readonly history?: boolean;
  readonly onLog?: (level: 'info' | 'warn', message: string) => void;
}

/**
 * Simulated devices of one use case (its manifest's simulator), each running the real edge agent: its own certificate and MQTT connection
 * over mutual TLS, the use case's edge filters, and a disk queue, exactly as on a gateway.
 */
export class SimulatedFleet {
  private readonly abort = new AbortController();
  private readonly runs: Promise<void>[] = [];

  private constructor(
    /** The use case the devices belong to. */
    readonly useCase: string,
    private readonly agents: EdgeAgent[],
    private readonly simulators: ReadonlyMap<string, DeviceSimulator>,
    /** The devices that send a history first, and how many seconds of it. */
    readonly history: { readonly things: readonly string[]; readonly seconds: number },
  ) {}

  /** The simulated devices, by thing name. */
  get things(): readonly string[] {
    return [...this.simulators.keys()];
  }

  /** The fault a demonstration gives a device of this fleet, if its simulator declares any. */
  demoFaultOf(thing: string): string | undefined {
    return this.simulators.get(thing)?.demoFaultId;
  }

  /** Starts one of the use case's declared faults on one device, from now on. */
  inject(thing: string, faultId: string): void {
    const simulator = this.simulators.get(thing);
    if (!simulator)
      throw new Error(`no simulated device "${thing}" (${[...this.simulators.keys()].join(', ')})`);
    simulator.inject(faultId, Date.now());
  }

  static async start(options: SimulatedFleetOptions): Promise<SimulatedFleet> {
    if (!Number.isInteger(options.devices) || options.devices < 0) {
      throw new Error(`devices must be a whole number of at least 0, got ${options.devices}`);
    }
    if (!(options.rate > 0) || options.rate > 1000) {
      throw new Error(`rate must be above 0 and at most 1000 readings per second, got ${options.rate}`);
    }
    const prefix = simulatedThingPrefix(options.useCase);
    const things = Array.from({ length: options.devices }, (_, index) => simulatedThingName(index, prefix));
    const seedOf = (index: number) => (options.seed ?? 1) * 7919 + index;
    // Made first: a use case that cannot be simulated says so before any device starts.
    const simulators = new Map(
      things.map((thing, index) => [
        thing,
        deviceSimulator(options.useCase, options.contract, seedOf(index)),
      ]),
    );
    // Before the agents make their folders: a device with none is new here.
    const newThings = options.history
      ? things.filter((thing) => !existsSync(path.join(options.dataDir, thing)))
      : [];
    const pairs = await Promise.all(things.map((thing) => options.ca.devicePair(thing)));
    const agents = things.map((thing, index) => startAgent(options, thing, index, pairs[index]));
    const fleet = new SimulatedFleet(options.useCase.id, agents, simulators, {
      things: newThings,
      seconds: Math.max(0, ...newThings.map((thing) => historyMsOf(options, thing) / 1000)),
    });
    // Every device's paced source waits on the one stop signal.
    setMaxListeners(options.devices + 10, fleet.abort.signal);
    agents.forEach((agent, index) => {
      const thing = things[index] ?? '';
      const simulator = simulators.get(thing);
      // Spread the devices over one period so the broker sees a steady stream, not bursts.
      const delayMs = (1000 / options.rate) * (index / Math.max(1, options.devices));
      fleet.runs.push(
        new Promise((resolve) => setTimeout(resolve, delayMs)).then(() =>
          agent.run(sourceOf(options, thing, simulator, newThings.includes(thing), fleet.abort.signal)),
        ),
      );
    });
    return fleet;
  }

  /** Readings the broker acknowledged, across the fleet. */
  get publishedCount(): number {
    return this.agents.reduce((sum, agent) => sum + agent.status.sent, 0);
  }

  get statuses(): EdgeAgentStatus[] {
    return this.agents.map((agent) => agent.status);
  }

  /** Stops the sensors, gives every agent `drainMs` to send what it buffered, then disconnects. */
  async stop(drainMs = 10_000): Promise<EdgeAgentStatus[]> {
    this.abort.abort();
    await Promise.all(this.runs);
    return Promise.all(this.agents.map((agent) => agent.stop(drainMs)));
  }
}

/** Per device: a device's own edge settings may thin its readings more. */
function historyMsOf(options: SimulatedFleetOptions, thing: string): number {
  return (
    1000 *
    historySeconds(
      resolveEdgeSettings(options.useCase.edge, thing),
      options.rate,
      options.useCase.alerts.calibrationReadings,
    )
  );
}

/** One simulated device's agent, with its own certificate, settings and queue folder. */
function startAgent(
  options: SimulatedFleetOptions,
  thing: string,
  index: number,
  pair: { cert: string; key: string } | undefined,
): EdgeAgent {
  return EdgeAgent.start({
    // Alternate generations so dashboards and per-generation queries have something to split.
    identity: {
      thing,
      firmware: '1.4.2',
      hardwareGeneration: index % 2 === 0 ? 'gen2' : 'gen3',
      origin: 'simulated',
    },
    contract: options.contract,
    settings: resolveEdgeSettings(options.useCase.edge, thing),
    connection: {
      url: options.url,
      ca: options.ca.caPem,
      cert: pair?.cert ?? '',
      key: pair?.key ?? '',
      topic: telemetryTopic(options.useCase.id, thing),
      healthTopic: healthTopic(options.useCase.id, thing),
    },
    dataDir: path.join(options.dataDir, thing),
    // As fast as IoT Core lets one connection publish, so each device catches up after a pause.
    maxSendRate: MAX_PUBLISHES_PER_CONNECTION_PER_SECOND,
    ...(options.healthIntervalMs === undefined ? {} : { healthIntervalMs: options.healthIntervalMs }),
    ...(options.onLog ? { onLog: options.onLog } : {}),
  });
}

/** A device's readings: live from now on, after its history when it is new here. */
function sourceOf(
  options: SimulatedFleetOptions,
  thing: string,
  simulator: DeviceSimulator | undefined,
  withHistory: boolean,
  signal: AbortSignal,
): ReadingSource {
  const live = () =>
    simulatorSource({ thing, rate: options.rate, ...(simulator ? { simulator } : {}), signal });
  if (!simulator || !withHistory) return live();
  const now = Date.now();
  const past = () =>
    historySource(simulator, {
      from: now - historyMsOf(options, thing),
      until: now,
      stepMs: 1000 / options.rate,
      signal,
    });
  return sourcesInTurn(past, live);
}
