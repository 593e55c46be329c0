import { z } from 'zod';
import type { AllowList, DeviceCertificates } from './pre-provisioning.ts';
import { registrationParametersSchema } from './claim.ts';

/**
 * The topic a device publishes to once it is connected with a renewed certificate. IoT Core
 * adds who published (`clientid()`) and with which certificate (`principal()`), so the device
 * can only ever retire its own previous certificate.
 */
export function certificateTopic(useCase: string, thing: string): string {
  return `dt/${useCase}/${thing}/certificate`;
}

/** `dt/<use case>/<thing>/certificate`: the rule's topic filter. */
export const CERTIFICATE_TOPIC_FILTER = 'dt/+/+/certificate';

export function parseCertificateTopic(topic: string): { useCase: string; thing: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'dt' || parts[3] !== 'certificate') return undefined;
  const [, useCase, thing] = parts;
  return useCase && thing ? { useCase, thing } : undefined;
}

/** What the device says: which serial it is. */
export const rotationConfirmationSchema = z.strictObject({
  serialNumber: registrationParametersSchema.shape.SerialNumber,
});

/** What the rule hands the Lambda: the device's message and who sent it. */
export const confirmationEventSchema = z.strictObject({
  serialNumber: z.unknown(),
  thing: z.string().min(1),
  certificateId: z.string().min(1),
});

/** IoT SQL of the rule that hears renewed devices. */
export function certificateRuleSql(): string {
  return `SELECT serialNumber, clientid() AS thing, principal() AS certificateId FROM '${CERTIFICATE_TOPIC_FILTER}'`;
}

export interface ConfirmationDependencies {
  readonly allowList: Pick<AllowList, 'get' | 'clearPrevious'>;
  readonly certificates: DeviceCertificates;
  readonly log: (message: string, details: Record<string, unknown>) => void;
}

export type ConfirmationOutcome = { readonly retired: string } | { readonly ignored: string };

/**
 * A device connected with its renewed certificate: the one it replaced is deactivated and
 * detached, and forgotten. Only the thing itself, connected with its current certificate, can
 * do this; anything else is logged and ignored. Repeating it changes nothing.
 */
export async function confirmRotation(
  event: unknown,
  deps: ConfirmationDependencies,
): Promise<ConfirmationOutcome> {
  const ignore = (reason: string, details: Record<string, unknown> = {}): ConfirmationOutcome => {
    deps.log('certificate confirmation ignored', { reason, ...details });
    return { ignored: reason };
  };
  const parsed = confirmationEventSchema.safeParse(event);
  if (!parsed.success) return ignore('not a confirmation event');
  const { thing, certificateId } = parsed.data;
  const message = rotationConfirmationSchema.safeParse({ serialNumber: parsed.data.serialNumber });
  if (!message.success) return ignore('no valid serialNumber in the message', { thing });
  const serial = message.data.serialNumber;
  const entry = await deps.allowList.get(serial);
  if (!entry || entry.thingName !== thing)
    return ignore(`serial number "${serial}" is not thing "${thing}" on the allow-list`, { thing });
  if (entry.certificateId !== certificateId)
    return ignore(`thing "${thing}" is connected with ${certificateId}, not its current certificate`, {
      thing,
      current: entry.certificateId,
    });
  const previous = entry.previousCertificateId;
  if (previous === undefined) return ignore('no previous certificate to retire', { thing });
  await deps.certificates.retire(previous, thing);
  await deps.allowList.clearPrevious(serial, previous);
  deps.log('previous certificate retired', { serial, thing, retired: previous, current: certificateId });
  return { retired: previous };
}
