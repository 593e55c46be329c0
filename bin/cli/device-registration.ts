import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import {
  DescribeStacksCommand,
  type CloudFormationClient,
  type Output,
} from '@aws-sdk/client-cloudformation';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  type IoTClient,
  ListAttachedPoliciesCommand,
  ListThingPrincipalsCommand,
  ListThingsInThingGroupCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { basicIngestTopic } from '../../core/ingest/topics.ts';
import { useCaseThingGroup } from '../../core/provisioning/claim.ts';

/** What the edge agent needs to connect as a registered thing. */
export interface DeviceCredentials {
  readonly thing: string;
  readonly useCase: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  /** Absent when the device made its own key and sent a CSR: the key never left it. */
  readonly privateKey?: string;
  /** Amazon Root CA 1, from Node.js's bundled roots (no download). */
  readonly rootCaPem: string;
  readonly endpoint: string;
  readonly ruleName: string;
  readonly topic: string;
  readonly thingGroup: string;
}

export interface RegisteredDevice {
  readonly thing: string;
  readonly useCase: string;
  readonly certificates: readonly { readonly id: string; readonly status: string }[];
}

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** Amazon Root CA 1, which signs IoT Core's ATS endpoints, from the roots Node.js ships. */
export function amazonRootCa1(): string {
  const pem = rootCertificates.find((candidate) =>
    new X509Certificate(candidate).subject.split('\n').includes('CN=Amazon Root CA 1'),
  );
  if (!pem) throw new Error("Amazon Root CA 1 is not among this Node.js's root certificates");
  return pem;
}

/** An AWS SDK error of the given name (the SDK's exception classes carry it as `name`). */
export function isAwsError(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

/** The account's IoT Core ATS endpoint, which devices connect to. */
export async function atsEndpoint(iot: IoTClient): Promise<string> {
  const { endpointAddress } = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
  if (!endpointAddress) throw new Error('IoT Core named no ATS endpoint');
  return endpointAddress;
}

/** Runs each undo step in turn, going on past the ones that fail. */
export async function bestEffort(attempts: readonly (() => Promise<unknown>)[]): Promise<void> {
  for (const attempt of attempts) {
    try {
      await attempt();
    } catch {
      // The next step may still succeed; what is left is the caller's to say.
    }
  }
}

/** A deployed stack's outputs; a clear error when there is no such stack where the SDK points. */
export async function stackOutputs(
  cloudFormation: CloudFormationClient,
  stackName: string,
): Promise<Output[]> {
  try {
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    return Stacks[0]?.Outputs ?? [];
  } catch (error) {
    if (isAwsError(error, 'ValidationError'))
      throw new Error(
        `no stack "${stackName}" in this account and region: deploy it, or name it with --stack`,
        {
          cause: error,
        },
      );
    throw error;
  }
}

/**
 * Registers devices of a deployed stack in AWS IoT Core: the thing in its use case's thing group,
 * a certificate (from the device's CSR, or a key pair made here), the stack's device policy, and
 * what the edge agent needs. Revoking deactivates and detaches; nothing of the audit trail goes.
 */
export class DeviceRegistration {
  constructor(
    private readonly iot: IoTClient,
    private readonly cloudFormation: CloudFormationClient,
    readonly stackName: string,
  ) {}

  /** The use cases the stack ingests, with their device policy and Basic Ingest rule name. */
  async useCases(): Promise<Map<string, { policyName: string; ruleName: string }>> {
    const outputs = await stackOutputs(this.cloudFormation, this.stackName);
    const byKey = (prefix: string, suffix: string) =>
      outputs.find(
        (o) => o.OutputKey?.startsWith(prefix) && o.OutputKey.slice(prefix.length).startsWith(suffix),
      )?.OutputValue;
    const useCases = new Map<string, { policyName: string; ruleName: string }>();
    for (const output of outputs) {
      // UseCase-<id>'s outputs: CloudFormation keys drop the dashes, the description names the id.
      const match = /^IoT policy to attach to each (\S+) device certificate$/.exec(output.Description ?? '');
      const useCase = match?.[1];
      if (!useCase || !output.OutputKey) continue;
      const prefix = `UseCase${useCase.replace(/[^A-Za-z0-9]/g, '')}`;
      const ruleName = byKey(prefix, 'IngestRuleName');
      if (output.OutputValue && ruleName) useCases.set(useCase, { policyName: output.OutputValue, ruleName });
    }
    if (useCases.size === 0)
      throw new Error(`stack "${this.stackName}" has no use case outputs: is it an aiot-pipeline stack?`);
    return useCases;
  }

  thingGroupOf(useCase: string): string {
    return useCaseThingGroup(this.stackName, useCase);
  }

  /**
   * Registers `thing` for `useCase` (the stack's only one when not given). With `csrPem`, IoT signs
   * the device's request and no private key exists outside the device. A failure half way removes
   * what this call made.
   */
  async register(options: { thing: string; useCase?: string; csrPem?: string }): Promise<DeviceCredentials> {
    const { thing } = options;
    if (!THING_NAME.test(thing))
      throw new Error(`thing name "${thing}" must be 1 to 128 letters, digits, ':', '_' or '-'`);
    const useCases = await this.useCases();
    const useCase = options.useCase ?? (useCases.size === 1 ? [...useCases.keys()][0] : undefined);
    if (!useCase)
      throw new Error(
        `stack "${this.stackName}" has several use cases (${[...useCases.keys()].join(', ')}): pass --use-case`,
      );
    const target = useCases.get(useCase);
    if (!target)
      throw new Error(
        `stack "${this.stackName}" has no use case "${useCase}" (${[...useCases.keys()].join(', ')})`,
      );

    const thingGroup = this.thingGroupOf(useCase);
    try {
      await this.iot.send(
        new CreateThingGroupCommand({
          thingGroupName: thingGroup,
          thingGroupProperties: {
            thingGroupDescription: `aiot-pipeline ${this.stackName}: ${useCase} devices`,
          },
        }),
      );
    } catch (error) {
      if (!isAwsError(error, 'ResourceAlreadyExistsException')) throw error;
    }
    try {
      await this.iot.send(
        new CreateThingCommand({ thingName: thing, attributePayload: { attributes: { useCase } } }),
      );
    } catch (error) {
      if (isAwsError(error, 'ResourceAlreadyExistsException'))
        throw new Error(
          `thing "${thing}" exists already: revoke it first (aiot devices revoke --thing ${thing}) or pick another name`,
          { cause: error },
        );
      throw error;
    }
    let certificateArn: string | undefined;
    try {
      const issued: { certificateArn?: string; certificatePem?: string; keyPair?: { PrivateKey?: string } } =
        options.csrPem
          ? await this.iot.send(
              new CreateCertificateFromCsrCommand({
                certificateSigningRequest: options.csrPem,
                setAsActive: true,
              }),
            )
          : await this.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      certificateArn = issued.certificateArn;
      if (!certificateArn || !issued.certificatePem) throw new Error('IoT Core issued no certificate');
      await this.iot.send(new AttachPolicyCommand({ policyName: target.policyName, target: certificateArn }));
      await this.iot.send(new AttachThingPrincipalCommand({ thingName: thing, principal: certificateArn }));
      await this.iot.send(new AddThingToThingGroupCommand({ thingName: thing, thingGroupName: thingGroup }));
      const endpointAddress = await atsEndpoint(this.iot);
      return {
        thing,
        useCase,
        certificateArn,
        certificatePem: issued.certificatePem,
        ...('keyPair' in issued && issued.keyPair?.PrivateKey
          ? { privateKey: issued.keyPair.PrivateKey }
          : {}),
        rootCaPem: amazonRootCa1(),
        endpoint: endpointAddress,
        ruleName: target.ruleName,
        topic: basicIngestTopic(target.ruleName, useCase, thing),
        thingGroup,
      };
    } catch (error) {
      await this.undo(thing, certificateArn, target.policyName);
      throw error;
    }
  }

  /** Removes what a failed registration made, as far as it can; the first error is the one reported. */
  private async undo(thing: string, certificateArn: string | undefined, policyName: string): Promise<void> {
    const attempts: (() => Promise<unknown>)[] = [];
    if (certificateArn) {
      const certificateId = certificateArn.split('/').pop() ?? '';
      attempts.push(
        () => this.iot.send(new DetachThingPrincipalCommand({ thingName: thing, principal: certificateArn })),
        () => this.iot.send(new DetachPolicyCommand({ policyName, target: certificateArn })),
        () => this.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' })),
        () => this.iot.send(new DeleteCertificateCommand({ certificateId })),
      );
    }
    attempts.push(() => this.iot.send(new DeleteThingCommand({ thingName: thing })));
    // What cannot be undone is left for `aiot devices revoke`.
    await bestEffort(attempts);
  }

  /** Deactivates every certificate of `thing` and detaches it from the thing and its policies. */
  async revoke(thing: string): Promise<string[]> {
    let principals: string[];
    try {
      principals =
        (await this.iot.send(new ListThingPrincipalsCommand({ thingName: thing }))).principals ?? [];
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException'))
        throw new Error(`no thing "${thing}" in this account and region`, { cause: error });
      throw error;
    }
    const revoked: string[] = [];
    for (const principal of principals) {
      const certificateId = principal.split('/').pop() ?? '';
      await this.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
      const { policies = [] } = await this.iot.send(new ListAttachedPoliciesCommand({ target: principal }));
      for (const policy of policies) {
        if (policy.policyName)
          await this.iot.send(new DetachPolicyCommand({ policyName: policy.policyName, target: principal }));
      }
      await this.iot.send(new DetachThingPrincipalCommand({ thingName: thing, principal }));
      revoked.push(certificateId);
    }
    return revoked;
  }

  /** The things in each use case's group, with their certificates' status. */
  async list(): Promise<RegisteredDevice[]> {
    const devices: RegisteredDevice[] = [];
    for (const useCase of (await this.useCases()).keys()) {
      let nextToken: string | undefined;
      do {
        let page;
        try {
          page = await this.iot.send(
            new ListThingsInThingGroupCommand({ thingGroupName: this.thingGroupOf(useCase), nextToken }),
          );
        } catch (error) {
          if (isAwsError(error, 'ResourceNotFoundException')) break; // no device registered yet
          throw error;
        }
        for (const thing of page.things ?? []) {
          const { principals = [] } = await this.iot.send(
            new ListThingPrincipalsCommand({ thingName: thing }),
          );
          const certificates = await Promise.all(
            principals.map(async (principal) => {
              const id = principal.split('/').pop() ?? '';
              const { certificateDescription } = await this.iot.send(
                new DescribeCertificateCommand({ certificateId: id }),
              );
              return { id, status: certificateDescription?.status ?? 'UNKNOWN' };
            }),
          );
          devices.push({ thing, useCase, certificates });
        }
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return devices;
  }
}
