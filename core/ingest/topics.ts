/**
 * Topic layout and the device publish policy. The cloud IoT policy (lib/) and the local broker
 * (local/) both enforce exactly this: a device connects as its own thing and publishes only to
 * its own telemetry topic, directly or through Basic Ingest.
 */

export const BASIC_INGEST_PREFIX = '$aws/rules/';

export function telemetryTopic(useCase: string, thing: string): string {
  return `dt/${useCase}/${thing}/telemetry`;
}

/** Where a device's agent reports its own health (queue depth, oldest reading, losses). */
export function healthTopic(useCase: string, thing: string): string {
  return `dt/${useCase}/${thing}/health`;
}

/** The topic filter of a use case's health rule. */
export function healthTopicFilter(useCase: string): string {
  return `dt/${useCase}/+/health`;
}

/** The use case and thing of a health topic; undefined for any other topic. */
export function parseHealthTopic(topic: string): { useCase: string; thing: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'dt' || parts[3] !== 'health') return undefined;
  const [, useCase, thing] = parts;
  return useCase && thing ? { useCase, thing } : undefined;
}

export function basicIngestTopic(ruleName: string, useCase: string, thing: string): string {
  return `${BASIC_INGEST_PREFIX}${ruleName}/${telemetryTopic(useCase, thing)}`;
}

/** The topic filter of a use case's ingest rule (the rule's FROM clause). */
export function telemetryTopicFilter(useCase: string): string {
  return `dt/${useCase}/+/telemetry`;
}

export interface ParsedTelemetryTopic {
  /** Rule named by a Basic Ingest prefix, if the message used one. */
  readonly ruleName?: string;
  readonly useCase: string;
  readonly thing: string;
}

/** Parses either topic form; undefined when the topic is not a telemetry topic. */
export function parseTelemetryTopic(topic: string): ParsedTelemetryTopic | undefined {
  let ruleName: string | undefined;
  let rest = topic;
  if (topic.startsWith(BASIC_INGEST_PREFIX)) {
    const slash = topic.indexOf('/', BASIC_INGEST_PREFIX.length);
    if (slash < 0) return undefined;
    ruleName = topic.slice(BASIC_INGEST_PREFIX.length, slash);
    rest = topic.slice(slash + 1);
  }
  const parts = rest.split('/');
  if (parts.length !== 4 || parts[0] !== 'dt' || parts[3] !== 'telemetry') return undefined;
  const [, useCase, thing] = parts;
  if (!useCase || !thing) return undefined;
  return ruleName === undefined ? { useCase, thing } : { ruleName, useCase, thing };
}

export type PublishDecision = { allowed: true } | { allowed: false; reason: string };

/**
 * The device policy: `thing` may publish to `dt/<useCase>/<thing>/telemetry` of a known use case,
 * or to the Basic Ingest form naming that use case's rule, and to its own health topic.
 */
export function authorizeDevicePublish(
  thing: string,
  topic: string,
  ruleNamesByUseCase: ReadonlyMap<string, string>,
): PublishDecision {
  const health = parseHealthTopic(topic);
  if (health) {
    if (health.thing !== thing)
      return { allowed: false, reason: `thing "${thing}" may not report health as "${health.thing}"` };
    return ruleNamesByUseCase.has(health.useCase)
      ? { allowed: true }
      : { allowed: false, reason: `unknown use case "${health.useCase}"` };
  }
  const parsed = parseTelemetryTopic(topic);
  if (!parsed) return { allowed: false, reason: `"${topic}" is not a telemetry topic` };
  if (parsed.thing !== thing) {
    return { allowed: false, reason: `thing "${thing}" may not publish as "${parsed.thing}"` };
  }
  const ruleName = ruleNamesByUseCase.get(parsed.useCase);
  if (ruleName === undefined) return { allowed: false, reason: `unknown use case "${parsed.useCase}"` };
  if (parsed.ruleName !== undefined && parsed.ruleName !== ruleName) {
    return {
      allowed: false,
      reason: `rule "${parsed.ruleName}" does not serve use case "${parsed.useCase}"`,
    };
  }
  return { allowed: true };
}

/**
 * IoT Core's publishes per second on one connection (not adjustable): a QoS 1 publish over it gets
 * no PUBACK, and the device must send it again. The edge agent stays under it; the local broker
 * applies it.
 */
export const MAX_PUBLISHES_PER_CONNECTION_PER_SECOND = 100;
