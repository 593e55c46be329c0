import type { z } from 'zod';
import {
  AlertNotFound,
  ConcurrentChange,
  InvalidSilence,
  type AlertService,
} from '../alerts/alert-service.ts';
import { InvalidTransition } from '../alerts/lifecycle.ts';
import type { AlertStore } from '../alerts/ports.ts';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { BaselineStore } from '../baseline/ports.ts';
import { issuesText } from '../contracts/reasons.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import type { Clock } from '../ingest/ports.ts';
import type { KpiReads } from '../kpi/kpi.ts';
import type { KeptKpiDays } from '../kpi/schedule.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import { PermissionDenied, permissionsOf, type Actor } from './actor.ts';
import type { ModelVersions, OperatorReads } from './ports.ts';

/*
 * The operators' API as a protocol, whatever carries it (the local runtime's HTTP, API Gateway):
 * requests, replies and their routes, what the API needs, and how its refusals become statuses.
 */

/** What the operators' API needs: the alert service, the stores behind it and the reads for people. */
export interface OperatorApiDeps {
  readonly alerts: AlertService;
  readonly alertStore: AlertStore;
  readonly baselines: BaselineStore;
  readonly reads: OperatorReads;
  readonly useCases: readonly UseCaseManifest[];
  /** The contracts the use cases speak, to find each sensor's store column. */
  readonly contracts: ContractRegistry;
  readonly clock: Clock;
  /** Ids of new silences. */
  readonly newId: () => string;
  /** Where every change people make here is recorded: verdicts, silences, re-baselines. */
  readonly audit: AuditTrail;
  /** The KPI days the schedule kept, for the use-case page. @default none: no KPI values shown */
  readonly kpis?: KeptKpiDays;
  /** The model versions and candidates, for the use-case page. @default none: no versions shown */
  readonly models?: ModelVersions;
  /**
   * The store's KPI reads of a use case, for the savings since a fault's fix (M&V). @default
   * none: `GET /alerts/<id>/savings` answers that it is not measured here
   */
  readonly kpiReads?: (manifest: UseCaseManifest) => KpiReads;
}

export interface OperatorRequest {
  readonly method: string;
  /** The route without any prefix the adapter serves it under, such as `/alerts/a-1/decisions`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The request body as sent: JSON for changes, empty for reads. */
  readonly body: string;
  /**
   * Who asks, as the adapter established it (the token's user and group in the cloud, the local
   * user of the CLI or console). Only local programs on loopback may read without one; every
   * change needs one.
   */
  readonly actor: Actor | undefined;
}

export interface OperatorReply {
  readonly status: number;
  readonly body: unknown;
}

export const OPERATOR_ROUTES = [
  'GET /session',
  'GET /use-cases',
  'GET /use-cases/<use case>',
  'GET /use-cases/<use case>/savings',
  'GET /fleet',
  'GET /alerts',
  'GET /alerts/<id>',
  'GET /alerts/<id>/series',
  'GET /alerts/<id>/savings',
  'POST /alerts/<id>/decisions',
  'GET /devices',
  'GET /devices/<use case>/<device>',
  'GET /devices/<use case>/<device>/series',
  'POST /devices/<use case>/<device>/rebaseline',
  'GET /silences',
  'POST /silences',
  'POST /recommendations',
] as const;

/** Who the console acts as and what they may do: it shows only the actions the role may take. */
export function sessionOf(actor: Actor) {
  return { actor, permissions: permissionsOf(actor.role) };
}

export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

export class NotFound extends Error {
  override readonly name = 'NotFound';
}

export class Unauthenticated extends Error {
  override readonly name = 'Unauthenticated';
}

/** Maps the domain's refusals onto HTTP: who may not (401/403), what does not exist (404), what changed (409). */
export function failure(error: unknown): OperatorReply {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Unauthenticated) return { status: 401, body: { error: message } };
  if (error instanceof PermissionDenied) return { status: 403, body: { error: message } };
  if (error instanceof AlertNotFound || error instanceof NotFound)
    return { status: 404, body: { error: message } };
  if (error instanceof InvalidTransition || error instanceof ConcurrentChange)
    return { status: 409, body: { error: message } };
  if (error instanceof BadRequest || error instanceof InvalidSilence)
    return { status: 400, body: { error: message } };
  throw error;
}

export function parsed<T extends z.ZodType>(schema: T, body: string): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new BadRequest('the body must be JSON');
  }
  const result = schema.safeParse(json);
  if (!result.success) throw new BadRequest(issuesText(result.error.issues, '(body)'));
  return result.data;
}

export function changer(request: OperatorRequest): Actor {
  if (!request.actor) throw new Unauthenticated('this needs to know who asks, and nobody is signed in');
  return request.actor;
}

export function integerParam(
  query: OperatorRequest['query'],
  name: string,
  fallback: number,
  max: number,
): number {
  const text = query[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new BadRequest(`${name} must be a whole number from 1 to ${max}, got "${text}"`);
  return value;
}

export function ok(body: unknown): OperatorReply {
  return { status: 200, body };
}
