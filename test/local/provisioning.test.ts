import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_PROVISIONING_TEMPLATE, PROVISIONING_TOPICS } from '../../core/provisioning/claim.ts';
import { LocalCertificateAuthority } from '../../local/broker/certs.ts';
import { LocalProvisioning } from '../../local/broker/provisioning.ts';

let dir: string;
let ca: LocalCertificateAuthority;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiot-local-provisioning-'));
  ca = await LocalCertificateAuthority.openOrCreate(path.join(dir, 'certs'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const provisioningDir = () => path.join(dir, 'provisioning');
const register = PROVISIONING_TOPICS.register(LOCAL_PROVISIONING_TEMPLATE);
const answer = async (provisioning: LocalProvisioning, topic: string, body: string) => {
  const reply = await provisioning.handle(topic, Buffer.from(body), {
    clientId: 'provision-x',
    certificateId: 'claim',
  });
  return { topic: reply.topic, body: JSON.parse(reply.payload.toString()) as Record<string, unknown> };
};

describe('LocalProvisioning', () => {
  it.each([
    ['not JSON', '{ serialNumber: SN-1 ', 'is not JSON'],
    [
      'an entry with a bad thing name',
      JSON.stringify([{ serialNumber: 'SN-1', thingName: 'a b', useCase: 'pump-maintenance', site: 'a' }]),
      '0.thingName: must be a thing name',
    ],
    ['an object instead of a list', JSON.stringify({ serialNumber: 'SN-1' }), 'expected array'],
  ])(
    'GIVEN an allow-list file that is %s THEN the runtime refuses to start, naming the file and what is wrong',
    (_, text, message) => {
      mkdirSync(provisioningDir(), { recursive: true });
      writeFileSync(path.join(provisioningDir(), 'allow-list.json'), text);
      expect(() => new LocalProvisioning(provisioningDir(), ca, ['pump-maintenance'])).toThrow(
        expect.objectContaining({
          message: expect.stringMatching(
            new RegExp(`allow-list\\.json.*${message.replace(/[[\]().]/g, '\\$&')}`, 's'),
          ) as unknown,
        }),
      );
    },
  );

  it('GIVEN an allow-list file over 4 MiB THEN it is not read', () => {
    mkdirSync(provisioningDir(), { recursive: true });
    writeFileSync(path.join(provisioningDir(), 'allow-list.json'), `[${' '.repeat(4 * 1024 * 1024)}]`);
    expect(() => new LocalProvisioning(provisioningDir(), ca, ['pump-maintenance'])).toThrow(
      /over the 4194304-byte limit/,
    );
  });

  it('GIVEN hostile requests THEN each is answered on the rejected topic with why, and nothing is attached', async () => {
    const provisioning = new LocalProvisioning(provisioningDir(), ca, ['pump-maintenance']);
    expect(await answer(provisioning, PROVISIONING_TOPICS.createFromCsr, 'not json')).toEqual({
      topic: PROVISIONING_TOPICS.createFromCsrRejected,
      body: { statusCode: 400, errorCode: 'InvalidPayload', errorMessage: 'the request is not JSON' },
    });
    expect(
      (
        await answer(
          provisioning,
          PROVISIONING_TOPICS.createFromCsr,
          '{"certificateSigningRequest":"x","extra":1}',
        )
      ).body,
    ).toMatchObject({ errorCode: 'InvalidPayload' });
    expect(
      await answer(
        provisioning,
        register,
        '{"certificateOwnershipToken":"forged","parameters":{"SerialNumber":"SN-1"}}',
      ),
    ).toEqual({
      topic: PROVISIONING_TOPICS.registerRejected(LOCAL_PROVISIONING_TEMPLATE),
      body: {
        statusCode: 400,
        errorCode: 'InvalidCertificateOwnershipToken',
        errorMessage: 'unknown or expired certificate ownership token',
      },
    });
    expect((await answer(provisioning, register, '{"parameters":{}}')).body).toMatchObject({
      errorCode: 'InvalidPayload',
    });
    expect(provisioning.thingOfCertificate('00')).toBeUndefined();
  });

  it.each([
    ['not JSON', '{serial'],
    ['no serial', '{}'],
    ['a serial of another thing', '{"serialNumber":"SN-1"}'],
  ])('GIVEN a certificate confirmation that is %s THEN it retires nothing and says why', async (_, body) => {
    LocalProvisioning.admitTo(provisioningDir(), {
      serialNumber: 'SN-1',
      thingName: 'pump-1',
      useCase: 'pump-maintenance',
      site: 'plant-a',
    });
    const provisioning = new LocalProvisioning(provisioningDir(), ca, ['pump-maintenance']);
    const outcome = await provisioning.confirm('pump-2', 'AB:CD', Buffer.from(body));
    expect(outcome).toMatchObject({ ignored: expect.any(String) as unknown });
  });
});
