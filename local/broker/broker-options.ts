import type { Claimant } from '../../core/provisioning/claim.ts';
import type { ProvisioningReply } from './provisioning.ts';

/** IoT Core's limit on a PUBLISH payload; the client is disconnected past it, as in the cloud. */
export const MAX_PAYLOAD_BYTES = 128 * 1024;

export interface TelemetryArrival {
  readonly topic: string;
  readonly payload: Buffer;
  readonly clientId: string;
  readonly receivedAt: number;
}

export interface Refusal {
  readonly clientId: string;
  readonly thing: string;
  readonly action: 'connect' | 'publish' | 'subscribe' | 'accept';
  readonly topic?: string;
  readonly reason: string;
}

export interface LocalBrokerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** Ingest rule name of each use case, for the Basic Ingest topic form. */
  readonly ruleNames: ReadonlyMap<string, string>;
  /**
   * Takes a message the device policy allows, before the broker acknowledges it: a QoS 1 PUBACK
   * goes out only after this returns, so it must return only once the message is kept (or throw,
   * and the client gets no PUBACK and is disconnected, as when IoT Core cannot take a message).
   */
  readonly accept: (arrival: TelemetryArrival) => void;
  readonly onRefused: (refusal: Refusal) => void;
  /**
   * Publishes a second one connection may make; those over it are dropped unacknowledged, as IoT
   * Core throttles. @default MAX_PUBLISHES_PER_SECOND
   */
  readonly publishesPerSecond?: number;
  /**
   * Fleet provisioning by claim: who a provisioned certificate is, and the answers to a claim
   * certificate's requests. Without it, claim certificates are refused. @default - none
   */
  readonly provisioning?: {
    thingOfCertificate(fingerprint: string): string | undefined;
    handle(topic: string, payload: Buffer, claimant: Claimant): Promise<ProvisioningReply>;
    confirm(thing: string, certificateFingerprint: string, payload: Buffer): Promise<unknown>;
  };
}

export interface LocalBroker {
  readonly port: number;
  connectedClients(): number;
  close(): Promise<void>;
}
