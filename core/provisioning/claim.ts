import { z } from 'zod';
import { thingNameSchema } from '../contracts/contract.ts';
import { issuesText } from '../contracts/reasons.ts';

/**
 * Fleet provisioning by claim: a device leaves the factory with a claim certificate that may do
 * nothing but ask for its own identity. It makes a key pair and a certificate signing request,
 * then asks to be registered under its serial number. Only serial numbers an operator put on the
 * allow-list are registered, each once, as the thing and in the use case the list names.
 */

/** The client ids a claim certificate may connect with: never a thing's, so it cannot push a device off. */
export const CLAIM_CLIENT_ID_PREFIX = 'provision-';

/** What a device sends with RegisterThing, beyond the certificate it proves. */
export const registrationParametersSchema = z.strictObject({
  SerialNumber: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ -')
    .meta({ description: "The device's serial number, as on the allow-list." }),
});
export type RegistrationParameters = z.output<typeof registrationParametersSchema>;

/** A serial number an operator admitted: the thing it becomes and where it belongs. */
export const allowListEntrySchema = z.strictObject({
  serialNumber: registrationParametersSchema.shape.SerialNumber,
  useCase: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a use case id (lower-case kebab-case)'),
  site: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a site id: lower-case letters, digits and dashes'),
  thingName: thingNameSchema.refine((name) => !name.startsWith(CLAIM_CLIENT_ID_PREFIX), {
    message: `must not start with "${CLAIM_CLIENT_ID_PREFIX}": that prefix is the claim certificate's client id`,
  }),
  /** Set once the serial is provisioned: a serial registers once (a second device with it is refused). */
  provisionedAt: z.iso.datetime({ offset: true }).optional(),
  /** The certificate it was provisioned with, or rotated to last. */
  certificateId: z.string().optional(),
  /**
   * The certificate a rotation replaced, kept active until the device proves the new one by
   * connecting with it: then it is deactivated and this is cleared.
   */
  previousCertificateId: z.string().optional(),
  rotatedAt: z.iso.datetime({ offset: true }).optional(),
});
export type AllowListEntry = z.output<typeof allowListEntrySchema>;

/**
 * What the provisioning template receives from the hook: the thing's name, its groups and the
 * use case's device policy. The device cannot choose any of them.
 */
export interface TemplateParameters {
  readonly ThingName: string;
  readonly UseCaseGroup: string;
  readonly SiteGroup: string;
  readonly PolicyName: string;
  readonly Site: string;
}

/**
 * A registration of a device that has an identity already: it asks with its current certificate
 * (over its own connection, as its thing) for a new one before the current one expires.
 */
export interface Rotation {
  /** The certificate the device asked with: stays active until the device connects with the new one. */
  readonly replaces: string;
  /** A certificate to deactivate now: the one before `replaces`, or a new one the device never took up. */
  readonly retire?: string;
}

export type HookDecision =
  | {
      readonly allow: true;
      readonly entry: AllowListEntry;
      readonly parameters: TemplateParameters;
      /** Present when a provisioned device renews its certificate. */
      readonly rotation?: Rotation;
    }
  | { readonly allow: false; readonly reason: string };

/** Who asks to register: the connection's client id and the certificate it proved. */
export interface Claimant {
  readonly clientId: string;
  readonly certificateId: string;
}

/**
 * Whether a provisioned device may renew its certificate: it must ask as its thing, with the
 * certificate the allow-list last gave it, or with the one before when the last renewal never
 * reached it (the device kept its old identity, so the new certificate is retired unused).
 */
function rotationOf(entry: AllowListEntry, claimant: Claimant): Rotation | string {
  const serial = entry.serialNumber;
  if (claimant.clientId !== entry.thingName)
    return `serial number "${serial}" was provisioned at ${entry.provisionedAt ?? '?'} (certificate ${entry.certificateId ?? 'unknown'}); a provisioned device renews its certificate as its thing "${entry.thingName}", not as "${claimant.clientId}", and an operator re-admits a replaced device with \`aiot devices allow --again\``;
  if (claimant.certificateId === entry.certificateId)
    return entry.previousCertificateId === undefined
      ? { replaces: claimant.certificateId }
      : { replaces: claimant.certificateId, retire: entry.previousCertificateId };
  if (claimant.certificateId === entry.previousCertificateId && entry.certificateId !== undefined)
    return { replaces: claimant.certificateId, retire: entry.certificateId };
  return `thing "${entry.thingName}" asked to renew with certificate ${claimant.certificateId}, which is neither its current (${entry.certificateId ?? 'none'}) nor its previous one`;
}

/** Thing group names: one per use case (as `aiot devices register` makes them) and one per site. */
export function useCaseThingGroup(stackName: string, useCase: string): string {
  return `${stackName}-${useCase}`;
}

export function siteThingGroup(stackName: string, site: string): string {
  return `${stackName}-site-${site}`;
}

/**
 * The pre-provisioning hook's decision: the serial must be on the allow-list, not provisioned
 * before, and for a use case this stack serves. Every refusal says why (the hook logs it; the
 * device only learns it was refused).
 */
export function decideRegistration(
  parameters: unknown,
  entry: AllowListEntry | undefined,
  context: {
    readonly stackName: string;
    readonly policies: ReadonlyMap<string, string>;
    readonly claimant: Claimant;
  },
): HookDecision {
  const parsed = registrationParametersSchema.safeParse(parameters);
  if (!parsed.success) return { allow: false, reason: `parameters: ${issuesText(parsed.error.issues)}` };
  const serial = parsed.data.SerialNumber;
  if (!entry) return { allow: false, reason: `serial number "${serial}" is not on the allow-list` };
  let rotation: Rotation | undefined;
  if (entry.provisionedAt !== undefined) {
    const renewal = rotationOf(entry, context.claimant);
    if (typeof renewal === 'string') return { allow: false, reason: renewal };
    rotation = renewal;
  } else if (!context.claimant.clientId.startsWith(CLAIM_CLIENT_ID_PREFIX))
    // A device certificate of another stack must not take a serial admitted here.
    return {
      allow: false,
      reason: `serial number "${serial}" is provisioned first with a claim certificate (client id "${CLAIM_CLIENT_ID_PREFIX}*"), not by "${context.claimant.clientId}"`,
    };
  const policyName = context.policies.get(entry.useCase);
  if (policyName === undefined)
    return {
      allow: false,
      reason: `serial number "${serial}" is admitted for use case "${entry.useCase}", which this stack does not serve (${[...context.policies.keys()].join(', ')})`,
    };
  return {
    allow: true,
    entry,
    ...(rotation ? { rotation } : {}),
    parameters: {
      ThingName: entry.thingName,
      UseCaseGroup: useCaseThingGroup(context.stackName, entry.useCase),
      SiteGroup: siteThingGroup(context.stackName, entry.site),
      PolicyName: policyName,
      Site: entry.site,
    },
  };
}

/**
 * The provisioning template: the thing (named by the hook, in its use-case and site groups), the
 * certificate made from the device's CSR, and the use case's device policy. Every value comes
 * from the hook's overrides; `SerialNumber` is the device's own claim, kept as an attribute.
 */
export function provisioningTemplateBody(): Record<string, unknown> {
  const parameter = { Type: 'String' };
  return {
    Parameters: {
      SerialNumber: parameter,
      ThingName: parameter,
      UseCaseGroup: parameter,
      SiteGroup: parameter,
      PolicyName: parameter,
      Site: parameter,
      'AWS::IoT::Certificate::Id': parameter,
    },
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: {
          ThingName: { Ref: 'ThingName' },
          AttributePayload: { serialNumber: { Ref: 'SerialNumber' }, site: { Ref: 'Site' } },
          ThingGroups: [{ Ref: 'UseCaseGroup' }, { Ref: 'SiteGroup' }],
        },
        OverrideSettings: { AttributePayload: 'REPLACE', ThingGroups: 'REPLACE' },
      },
      certificate: {
        Type: 'AWS::IoT::Certificate',
        Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
      },
      policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: { Ref: 'PolicyName' } } },
    },
  };
}

/** The MQTT topics of fleet provisioning (the same in IoT Core and in the local runtime). */
export const PROVISIONING_TOPICS = {
  createFromCsr: '$aws/certificates/create-from-csr/json',
  createFromCsrAccepted: '$aws/certificates/create-from-csr/json/accepted',
  createFromCsrRejected: '$aws/certificates/create-from-csr/json/rejected',
  register: (template: string) => `$aws/provisioning-templates/${template}/provision/json`,
  registerAccepted: (template: string) => `$aws/provisioning-templates/${template}/provision/json/accepted`,
  registerRejected: (template: string) => `$aws/provisioning-templates/${template}/provision/json/rejected`,
} as const;

/** The provisioning template the local runtime answers for, in place of the stack's. */
export const LOCAL_PROVISIONING_TEMPLATE = 'aiot-local';

/** The MQTT API's messages (JSON), as IoT Core and the local runtime exchange them with a device. */
export const createFromCsrRequestSchema = z.strictObject({
  certificateSigningRequest: z
    .string()
    .min(1)
    .max(16 * 1024),
});
export const createFromCsrResponseSchema = z.object({
  certificateId: z.string().min(1),
  certificatePem: z.string().min(1),
  certificateOwnershipToken: z.string().min(1),
});
export const registerThingRequestSchema = z.strictObject({
  certificateOwnershipToken: z.string().min(1).max(4096),
  parameters: z.record(z.string(), z.string()).optional(),
});
export const registerThingResponseSchema = z.object({
  thingName: z.string().min(1),
  deviceConfiguration: z.record(z.string(), z.unknown()).optional(),
});
export const provisioningErrorSchema = z.object({
  statusCode: z.number(),
  errorCode: z.string(),
  errorMessage: z.string(),
});
export type ProvisioningError = z.output<typeof provisioningErrorSchema>;
