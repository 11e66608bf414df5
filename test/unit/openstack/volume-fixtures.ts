// Cinder volume and Nova server/attachment bodies as the APIs return them (Cinder API reference,
// "Show a volume's details"; Nova API reference, "Show Server Details", "List volume attachments").
import { PROJECT_ID } from './fixtures.js';

export const VOL_ID = '3f1c2a9e-7b4d-4e2a-9c1f-0a1b2c3d4e5f';
export const HOST_ID = '9d8c7b6a-5f4e-4d3c-8b2a-1a0b9c8d7e6f';
export const volPath = (id = VOL_ID) => `/v3/${PROJECT_ID}/volumes/${id}`;
export const actionPath = (id = VOL_ID) => `/v3/${PROJECT_ID}/volumes/${id}/action`;

export function volume(over: Record<string, unknown> = {}) {
  return {
    volume: {
      id: VOL_ID,
      name: 'c-test-disk0',
      status: 'available',
      size: 1,
      // Cinder's volume view sends bootable as a string and encrypted as a boolean.
      bootable: 'false',
      encrypted: false,
      availability_zone: 'az-2',
      volume_type: 'lvmdriver-1',
      metadata: { v2o_run: 'r1' },
      attachments: [],
      ...over,
    },
  };
}

export const attachedTo = (serverId: string) => [
  { server_id: serverId, attachment_id: 'att-1', volume_id: VOL_ID, device: '/dev/vdb', id: VOL_ID },
];

export function server(over: Record<string, unknown> = {}) {
  return {
    server: {
      id: HOST_ID,
      name: 'v2o-conversion-host',
      status: 'ACTIVE',
      tags: [],
      metadata: {},
      addresses: {},
      'OS-EXT-AZ:availability_zone': 'az-2',
      ...over,
    },
  };
}

export const META_DATA = {
  uuid: HOST_ID,
  name: 'v2o-conversion-host',
  availability_zone: 'az-2',
  project_id: PROJECT_ID,
  hostname: 'v2o-conversion-host',
  launch_index: 0,
};
