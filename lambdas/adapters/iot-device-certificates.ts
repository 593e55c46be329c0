import {
  DescribeCertificateCommand,
  DetachThingPrincipalCommand,
  ResourceNotFoundException,
  UpdateCertificateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import type { DeviceCertificates } from '../../core/provisioning/pre-provisioning.ts';

/** Device certificates in IoT Core: a retired one is deactivated and detached from its thing. */
export class IotDeviceCertificates implements DeviceCertificates {
  constructor(private readonly iot: IoTClient) {}

  async retire(certificateId: string, thingName: string): Promise<void> {
    let certificateArn: string | undefined;
    try {
      const { certificateDescription } = await this.iot.send(
        new DescribeCertificateCommand({ certificateId }),
      );
      certificateArn = certificateDescription?.certificateArn;
    } catch (error) {
      // A renewal the device never finished may name a certificate IoT Core never made.
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
    await this.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    if (certificateArn === undefined) return;
    try {
      await this.iot.send(new DetachThingPrincipalCommand({ thingName, principal: certificateArn }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}
