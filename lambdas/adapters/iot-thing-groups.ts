import { CreateThingGroupCommand, ResourceAlreadyExistsException, type IoTClient } from '@aws-sdk/client-iot';
import type { ThingGroups } from '../../core/provisioning/pre-provisioning.ts';

/** Thing groups in IoT Core's registry, made when first needed. */
export class IotThingGroups implements ThingGroups {
  constructor(private readonly iot: IoTClient) {}

  async ensure(name: string, description: string): Promise<void> {
    try {
      await this.iot.send(
        new CreateThingGroupCommand({
          thingGroupName: name,
          thingGroupProperties: { thingGroupDescription: description },
        }),
      );
    } catch (error) {
      // Made before with other properties (by `aiot devices register`, say): it exists, which is all this needs.
      if (!(error instanceof ResourceAlreadyExistsException)) throw error;
    }
  }
}
