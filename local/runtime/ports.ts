import * as net from 'node:net';
import { listen } from '../http/listen.ts';
/**
 * Every port the local runtime opens, in one place: what listens there, the flag that moves it,
 * and its default. A new listener is added here or nowhere, so two of them can never share a
 * default again (the model servers once took `--model-port` + 1, the console's 8886).
 */
export const LISTENERS = {
  mqtt: { what: 'the MQTT broker (mutual TLS)', flag: '--mqtt-port', default: 8883 },
  api: { what: 'the query API', flag: '--api-port', default: 8884 },
  console: { what: 'the operator console', flag: '--console-port', default: 8886 },
  /**
   * One model server per use case with a model. A fixed default would be a range whose length
   * depends on the manifests, so by default each takes a free port, printed at start.
   */
  model: { what: 'the model servers', flag: '--model-port', default: 0 },
} as const;

export type ListenerName = keyof typeof LISTENERS;

/** What a caller asks for; an absent port takes its default, `false` opens no such listener. */
export interface PortChoice {
  readonly mqtt?: number;
  readonly api?: number;
  readonly console?: number | false;
  /** The first model server's port, the next use case's the one after; 0 picks free ports. */
  readonly model?: number | false;
}

/** One port to open: 0 means any free one, chosen when it listens. */
export interface PlannedPort {
  readonly listener: ListenerName;
  /** Who listens, for messages: "the model server of hvac-energy". */
  readonly what: string;
  readonly port: number;
}

export interface PortPlan {
  readonly mqtt: number;
  readonly api: number;
  /** False when the runtime runs without a console. */
  readonly console: number | false;
  /** Each use case's model server port, for the use cases with a model; empty without scoring. */
  readonly models: ReadonlyMap<string, number>;
  /** Every port above, in the order they open. */
  readonly all: readonly PlannedPort[];
}

function checkPort(listener: ListenerName, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(
      `${LISTENERS[listener].flag} must be a whole number from 0 to 65535 (0: any free port), got ${port}`,
    );
  }
  return port;
}

/**
 * The ports of one runtime, checked before anything listens: each within range, and no port given
 * twice (0, a free port, may repeat). `modelUseCases` are the use cases that get a model server.
 */
export function planPorts(choice: PortChoice, modelUseCases: readonly string[]): PortPlan {
  const mqtt = checkPort('mqtt', choice.mqtt ?? LISTENERS.mqtt.default);
  const api = checkPort('api', choice.api ?? LISTENERS.api.default);
  const consolePort =
    choice.console === false ? false : checkPort('console', choice.console ?? LISTENERS.console.default);
  const modelBase =
    choice.model === false ? false : checkPort('model', choice.model ?? LISTENERS.model.default);
  const models = new Map<string, number>();
  if (modelBase !== false) {
    modelUseCases.forEach((useCase, index) => {
      models.set(useCase, modelBase === 0 ? 0 : modelBase + index);
    });
  }
  const all: PlannedPort[] = [
    { listener: 'mqtt', what: LISTENERS.mqtt.what, port: mqtt },
    { listener: 'api', what: LISTENERS.api.what, port: api },
    ...[...models].map(([useCase, port]) => ({
      listener: 'model' as const,
      what: `the model server of ${useCase}`,
      port,
    })),
    ...(consolePort === false
      ? []
      : [{ listener: 'console' as const, what: LISTENERS.console.what, port: consolePort }]),
  ];
  for (const planned of all) {
    if (planned.port > 65_535) {
      throw new Error(
        `${LISTENERS.model.flag} ${String(modelBase)} leaves no port for ${planned.what} (${planned.port}): pass a lower one, or 0 for free ports`,
      );
    }
  }
  const taken = new Map<number, PlannedPort>();
  for (const planned of all) {
    if (planned.port === 0) continue;
    const holder = taken.get(planned.port);
    if (holder) {
      throw new Error(
        `port ${planned.port} would be taken twice, by ${holder.what} (${LISTENERS[holder.listener].flag}) and ${planned.what} (${LISTENERS[planned.listener].flag}): move one of them (0 picks a free port)`,
      );
    }
    taken.set(planned.port, planned);
  }
  return { mqtt, api, console: consolePort, models, all };
}

/**
 * Fails at once, naming the flag to change, when a fixed port of the plan is taken: before the
 * runtime trains its models (seconds to minutes), not after. The listeners still report a port
 * taken in between.
 */
export async function assertPortsFree(plan: PortPlan, host: string): Promise<void> {
  for (const planned of plan.all) {
    if (planned.port === 0) continue;
    const probe = net.createServer();
    await listen(probe, planned.port, host, LISTENERS[planned.listener].flag);
    await new Promise<void>((resolve) => {
      probe.close(() => {
        resolve();
      });
    });
  }
}
