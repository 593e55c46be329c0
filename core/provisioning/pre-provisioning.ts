import { z } from 'zod';
import type { Clock } from '../ingest/ports.ts';
import { decideRegistration, type AllowListEntry, type Rotation, type TemplateParameters } from './claim.ts';

/** What IoT Core hands the pre-provisioning hook when a device calls RegisterThing. */
export const preProvisioningEventSchema = z.object({
  claimCertificateId: z.string(),
  certificateId: z.string().min(1),
  certificatePem: z.string().optional(),
  templateArn: z.string(),
  clientId: z.string(),
  parameters: z.record(z.string(), z.string()).default({}),
});
export type PreProvisioningEvent = z.input<typeof preProvisioningEventSchema>;

/** What the hook answers: IoT Core provisions only on `allowProvisioning: true`. */
export type PreProvisioningResponse =
  | { readonly allowProvisioning: true; readonly parameterOverrides: TemplateParameters }
  | { readonly allowProvisioning: false };

/** The serial numbers operators admitted: a DynamoDB table in the cloud. */
export interface AllowList {
  get(serialNumber: string): Promise<AllowListEntry | undefined>;
  /**
   * Marks the serial provisioned with this certificate, unless it is marked already; false when
   * another registration marked it first (two devices racing with one serial).
   */
  markProvisioned(serialNumber: string, certificateId: string, at: Date): Promise<boolean>;
  /**
   * Records a renewal: `certificateId` becomes current and `rotation.replaces` previous, only if
   * the entry still holds what the decision saw (`expected`); false when it changed meanwhile.
   */
  markRotated(
    serialNumber: string,
    certificateId: string,
    rotation: Rotation,
    expected: Pick<AllowListEntry, 'certificateId' | 'previousCertificateId'>,
    at: Date,
  ): Promise<boolean>;
  /** Forgets the previous certificate once retired, if it is still the one recorded. */
  clearPrevious(serialNumber: string, previousCertificateId: string): Promise<void>;
}

/** Device certificates: a renewal retires the one it no longer needs. */
export interface DeviceCertificates {
  /** Deactivates the certificate and detaches it from the thing; a certificate retired before is no error. */
  retire(certificateId: string, thingName: string): Promise<void>;
}

/** Thing groups, made on first use: a site's group exists once its first device arrives. */
export interface ThingGroups {
  ensure(name: string, description: string): Promise<void>;
}

export interface PreProvisioningDependencies {
  readonly allowList: AllowList;
  readonly thingGroups: ThingGroups;
  readonly certificates: DeviceCertificates;
  readonly clock: Clock;
  readonly stackName: string;
  /** The device policy of each use case the stack serves, by use-case id. */
  readonly policies: ReadonlyMap<string, string>;
  readonly log: (message: string, details: Record<string, unknown>) => void;
}

/**
 * Admits a registration only for an allow-listed serial number, once: the serial is marked with
 * the new certificate before IoT Core makes the thing, so a second device claiming the same
 * serial is refused even when both ask at the same moment. A refusal is logged with its reason;
 * the device learns only that it was refused.
 */
export async function preProvision(
  event: unknown,
  deps: PreProvisioningDependencies,
): Promise<PreProvisioningResponse> {
  const parsed = preProvisioningEventSchema.safeParse(event);
  if (!parsed.success) {
    deps.log('provisioning refused: not a pre-provisioning event', { issues: parsed.error.issues });
    return { allowProvisioning: false };
  }
  const { parameters, certificateId, claimCertificateId, clientId } = parsed.data;
  const serial = parameters.SerialNumber;
  const entry = serial === undefined ? undefined : await deps.allowList.get(serial);
  const decision = decideRegistration(parameters, entry, {
    ...deps,
    claimant: { clientId, certificateId: claimCertificateId },
  });
  if (!decision.allow) {
    deps.log('provisioning refused', { reason: decision.reason, serial, claimCertificateId, certificateId });
    return { allowProvisioning: false };
  }
  const { parameters: overrides, rotation } = decision;
  if (rotation) return renew(decision.entry, certificateId, rotation, overrides, deps);
  await deps.thingGroups.ensure(
    overrides.UseCaseGroup,
    `aiot-pipeline ${deps.stackName}: ${decision.entry.useCase} devices`,
  );
  await deps.thingGroups.ensure(
    overrides.SiteGroup,
    `aiot-pipeline ${deps.stackName}: devices of site ${overrides.Site}`,
  );
  if (
    !(await deps.allowList.markProvisioned(
      decision.entry.serialNumber,
      certificateId,
      new Date(deps.clock.now()),
    ))
  ) {
    deps.log('provisioning refused', {
      reason: `serial number "${decision.entry.serialNumber}" was provisioned by another registration a moment ago`,
      claimCertificateId,
      certificateId,
    });
    return { allowProvisioning: false };
  }
  deps.log('provisioning admitted', {
    serial,
    thing: overrides.ThingName,
    useCase: decision.entry.useCase,
    certificateId,
  });
  return { allowProvisioning: true, parameterOverrides: overrides };
}

/**
 * A provisioned device renews its certificate: a certificate no longer needed is retired, then
 * the entry moves on, conditionally, so a racing renewal with the same certificate is refused.
 * The one the device asked with stays active until it connects with the new one
 * (`confirmRotation`).
 */
async function renew(
  entry: AllowListEntry,
  certificateId: string,
  rotation: Rotation,
  overrides: TemplateParameters,
  deps: PreProvisioningDependencies,
): Promise<PreProvisioningResponse> {
  const details = { serial: entry.serialNumber, thing: entry.thingName, certificateId, ...rotation };
  // Retired first: the device asked with another certificate, so this one is unused either way,
  // and a failure here leaves the entry as it was for the device's next try.
  if (rotation.retire !== undefined) await deps.certificates.retire(rotation.retire, entry.thingName);
  if (
    !(await deps.allowList.markRotated(
      entry.serialNumber,
      certificateId,
      rotation,
      { certificateId: entry.certificateId, previousCertificateId: entry.previousCertificateId },
      new Date(deps.clock.now()),
    ))
  ) {
    deps.log('provisioning refused', {
      ...details,
      reason: `thing "${entry.thingName}" renewed its certificate in another registration a moment ago`,
    });
    return { allowProvisioning: false };
  }
  deps.log('certificate renewal admitted', details);
  return { allowProvisioning: true, parameterOverrides: overrides };
}
