import type { OperatorApi } from '../../core/operators/api.ts';
import type { ReplayFilter, ReplayReport } from '../../core/ingest/quarantine-replay.ts';
import { applyIngestRule } from '../../core/ingest/rule.ts';
import { parseHealthTopic } from '../../core/ingest/topics.ts';
import { startLocalBroker, type LocalBroker } from '../broker/broker.ts';
import type { LocalCertificateAuthority } from '../broker/certs.ts';
import type { LocalProvisioning } from '../broker/provisioning.ts';
import { startConsoleServer } from '../http/console-server.ts';
import { startRuntimeApi } from '../http/runtime-api.ts';
import { recordHealth } from '../ingest/health-reports.ts';
import type { LocalDriftSchedule } from '../schedules/drift-schedule.ts';
import type { DuckDbStore } from '../store/duckdb-store.ts';
import type { PortPlan } from './ports.ts';
import type { RefusalLog } from './refusal-log.ts';
import type { LocalRuntimeOptions, RuntimeCounters } from './options.ts';

interface Server {
  readonly port: number;
  close(): Promise<void>;
}

/** What the runtime opens to the outside: the broker, the query API and the console. */
export interface Listeners {
  readonly broker: LocalBroker;
  readonly api: Server;
  readonly console: (Server & { readonly url: string }) | undefined;
}

export interface ListenerContext {
  readonly options: LocalRuntimeOptions;
  readonly ports: PortPlan;
  readonly ca: LocalCertificateAuthority;
  readonly store: DuckDbStore;
  readonly provisioning: LocalProvisioning;
  readonly counters: RuntimeCounters;
  readonly refusals: RefusalLog;
  readonly drift: LocalDriftSchedule;
  readonly operations: OperatorApi | undefined;
  /** Keeps a telemetry message in the ingest queue's journal (before the broker acknowledges it). */
  readonly enqueue: (message: string) => void;
  readonly replay: (filter: ReplayFilter) => Promise<ReplayReport>;
}

/**
 * Opens the runtime's listeners on the planned ports, in order; when one cannot open, the ones
 * already open are closed again and the error names the flag that moves it.
 */
export async function startListeners(context: ListenerContext): Promise<Listeners> {
  const { options, ports, store, counters } = context;
  const host = options.host ?? '127.0.0.1';
  const opened: Server[] = [];
  try {
    const brokerPair = await context.ca.brokerPair();
    const broker = await startLocalBroker({
      host,
      port: ports.mqtt,
      ca: context.ca.caPem,
      provisioning: context.provisioning,
      cert: brokerPair.cert,
      key: brokerPair.key,
      ruleNames: new Map(options.useCases.map((useCase) => [useCase.id, localRuleName(useCase.id)])),
      accept: (arrival) => {
        const health = parseHealthTopic(arrival.topic);
        if (health) {
          recordHealth(store, health, arrival, counters).catch((error: unknown) => options.onError?.(error));
          return;
        }
        context.enqueue(JSON.stringify(applyIngestRule(arrival)));
        counters.received += 1;
      },
      onRefused: (refusal) => {
        counters.refused += 1;
        context.refusals.add(refusal);
        options.onRefused?.(refusal);
      },
    });
    opened.push(broker);
    const api = await startRuntimeApi(store, host, ports.api, {
      drift: context.drift,
      quarantine: { replay: context.replay },
      ...(context.operations ? { operations: context.operations } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
    opened.push(api);
    const console =
      options.console && ports.console !== false
        ? await startConsoleServer({
            files: options.console.files,
            actor: options.console.actor,
            apiPort: api.port,
            host,
            port: ports.console,
          })
        : undefined;
    return { broker, api, console };
  } catch (error) {
    for (const server of opened.reverse()) await server.close();
    throw error;
  }
}

/** The name the local runtime gives a use case's ingest rule, for the Basic Ingest topic form. */
export function localRuleName(useCase: string): string {
  return `${useCase.replace(/-/g, '_')}_ingest`;
}
