// Shared by the vSphere integration tests: a client for the lab, its hooks and its disk manifest.
import { readFileSync } from 'node:fs';
import { type VSphereConfig, vsphereConfigFromEnv } from '../../../src/vsphere/config.js';
import { findByInventoryPath } from '../../../src/vsphere/methods/search-index.js';
import { connect, type VSphereClient } from '../../../src/vsphere/objects/client.js';
import { waitForTask } from '../../../src/vsphere/objects/task.js';
import { child, el, moref, toMoRef } from '../../../src/vsphere/soap/xml.js';
import type { MoRef } from '../../../src/vsphere/types.js';
import { labProcessEnv } from '../../helpers/lab-env.js';

export const env = labProcessEnv();

function need(name: string): string {
  const v = env[name];
  if (!v)
    throw new Error(`${name} is missing from .lab/lab.env: start the lab with npm run lab -- up vsphere`);
  return v;
}

export async function labConfig(): Promise<VSphereConfig> {
  return vsphereConfigFromEnv(env);
}

export async function labClient(): Promise<VSphereClient> {
  return connect(await labConfig());
}

export const guestCreds = () => ({
  username: need('V2O_LAB_GUEST_USERNAME'),
  password: need('V2O_LAB_GUEST_PASSWORD'),
});

/** POST to a lab hook (/v2o-ext/...): test-only controls of the simulator. */
export async function hook(path: string, body: unknown): Promise<unknown> {
  const https = await import('node:https');
  const url = new URL(`${need('V2O_LAB_VSPHERE_EXT_URL')}/${path.replace(/^\//, '')}`);
  const ca = readFileSync(need('GOVC_TLS_CA_CERTS'));
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: 'POST', ca, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) reject(new Error(`hook ${path}: HTTP ${res.statusCode} ${text}`));
          else resolve(text ? JSON.parse(text) : undefined);
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Puts a VM back to its seeded power, tools and guest state. */
export function resetVm(name: string): Promise<unknown> {
  return hook('reset', { vm: name });
}

interface ManifestDisk {
  label: string;
  unit: number;
  fileName: string;
  datastorePath: string;
  format: string;
  capacityBytes: number;
  rawSha256: string;
  files: { name: string; datastorePath: string; size: number; sha256: string; localPath: string }[];
  export: { file: string; size: number; sha256: string; localPath: string };
}

export interface Manifest {
  datacenter: string;
  datastore: string;
  datastoreDir: string;
  vms: { name: string; moref: string; disks: ManifestDisk[] }[];
}

export function manifest(): Manifest {
  return JSON.parse(readFileSync(need('V2O_LAB_VSPHERE_DISKS'), 'utf8')) as Manifest;
}

/** The seeded inventory (names, firmware, controllers …) the lab was built from. */
export function seedInventory(): {
  vms: Array<{
    name: string;
    guestId: string;
    firmware: string;
    secureBoot?: boolean;
    cpus: number;
    memoryMB: number;
    controller: string;
    tools: string;
    snapshot?: string;
    disks: unknown[];
    nics: Array<{ type: string; network: string; mac: string }>;
  }>;
} {
  return JSON.parse(readFileSync(new URL('../../lab/vsphere/inventory.json', import.meta.url), 'utf8'));
}

/** Creates a throw-away VM (test-only: v2o never creates VMs in vSphere). Returns its reference. */
export async function createTestVm(
  client: VSphereClient,
  name: string,
  opts: { diskPath?: string; capacityBytes?: number; guestId?: string } = {},
): Promise<MoRef> {
  const dc = env.GOVC_DATACENTER ?? 'DC0';
  const ds = env.GOVC_DATASTORE ?? 'LocalDS_0';
  const si = client.serviceContent.searchIndex!;
  const folder = await findByInventoryPath(client, si, `${dc}/vm`);
  const pool = await findByInventoryPath(
    client,
    si,
    `${dc}/host/${env.GOVC_RESOURCE_POOL ?? 'DC0_C0/Resources'}`,
  );
  if (!folder || !pool) throw new Error('lab inventory paths not found');
  const disk = opts.diskPath
    ? `<deviceChange><operation>add</operation><device xsi:type="VirtualLsiLogicSASController"><key>-1</key><busNumber>0</busNumber><sharedBus>noSharing</sharedBus></device></deviceChange><deviceChange><operation>add</operation><device xsi:type="VirtualDisk"><key>-2</key><backing xsi:type="VirtualDiskFlatVer2BackingInfo">${el('fileName', `[${ds}] ${opts.diskPath}`)}<diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned></backing><controllerKey>-1</controllerKey><unitNumber>0</unitNumber>${el('capacityInKB', Math.ceil((opts.capacityBytes ?? 1024 ** 3) / 1024))}</device></deviceChange>`
    : '';
  const body = `<CreateVM_Task>${moref('_this', folder)}<config>${el('name', name)}${el('guestId', opts.guestId ?? 'windows2019srv_64Guest')}<files>${el('vmPathName', `[${ds}] ${name}/${name}.vmx`)}</files><numCPUs>1</numCPUs><memoryMB>1024</memoryMB>${disk}</config>${moref('pool', pool)}</CreateVM_Task>`;
  const res = await client.call('CreateVM_Task', body);
  const result = await waitForTask(client, toMoRef(child(res, 'returnval'))!);
  return result as MoRef;
}

export async function destroyVm(client: VSphereClient, vm: MoRef): Promise<void> {
  const res = await client.call('Destroy_Task', `<Destroy_Task>${moref('_this', vm)}</Destroy_Task>`);
  await waitForTask(client, toMoRef(child(res, 'returnval'))!);
}
