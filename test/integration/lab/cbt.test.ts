// The vSphere lab's Changed Block Tracking (test/lab/vsphere/vcsim/simext/zz_v2o_cbt.go), driven
// through raw SOAP and the hooks, independently of src/vsphere: CBT on only after a stun,
// vSphere-shaped changeIds, snapshots that freeze the flat extent while the guest writes on,
// QueryChangedDiskAreas computed from the real writes and paged (area limit, empty pages),
// Range reads of the frozen base, consolidation, CBT reset, grow, NoDiskSpace, ToolsUnavailable,
// and the guest state written at power-off tracked like any write.
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEnv } from '../../helpers/lab-env.js';

const env = labEnv();
const sdk = new URL(env.GOVC_URL ?? 'https://127.0.0.1:18989/sdk');
const ca = existsSync(env.GOVC_TLS_CA_CERTS ?? '') ? readFileSync(env.GOVC_TLS_CA_CERTS!) : undefined;
const VM = env.V2O_LAB_VSPHERE_VM_WARM3 ?? 'win2022-warm03'; // this file's own VM (warm01/02 are the migration tests')
const MiB = 1024 * 1024;
const BLOCK = 64 * 1024;
const BOOT = 2000;
const CAP = 256 * MiB;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function call(
  url: string | URL,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, ca, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const first = (xml: string, re: RegExp) => re.exec(xml)?.[1];

let cookie = '';
async function soap(inner: string): Promise<{ status: number; xml: string }> {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="urn:vim25">' +
    `<soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`;
  const r = await call(sdk, {
    method: 'POST',
    headers: {
      'Content-Type': 'text/xml; charset=utf-8',
      SOAPAction: '"urn:vim25/7.0"',
      ...(cookie ? { Cookie: cookie } : {}),
    },
    body,
  });
  const set = r.headers['set-cookie'];
  if (Array.isArray(set) && set.length) cookie = set[0]!.split(';')[0]!;
  return { status: r.status, xml: r.body.toString('utf8') };
}

async function props(type: string, ref: string, ...paths: string[]): Promise<string> {
  const r = await soap(
    `<RetrievePropertiesEx><_this type="PropertyCollector">propertyCollector</_this><specSet><propSet><type>${type}</type>` +
      `${paths.map((p) => `<pathSet>${p}</pathSet>`).join('')}</propSet><objectSet><obj type="${type}">${xmlEscape(ref)}</obj></objectSet>` +
      '</specSet><options/></RetrievePropertiesEx>',
  );
  expect(r.status, r.xml).toBe(200);
  return r.xml;
}

/** Waits for the task the call returned; its info XML. */
async function task(inner: string): Promise<string> {
  const r = await soap(inner);
  expect(r.status, r.xml).toBe(200);
  const t = first(r.xml, /<returnval type="Task">([^<]+)</);
  expect(t, r.xml).toBeDefined();
  for (let i = 0; i < 200; i++) {
    const info = await props('Task', t!, 'info');
    const state = first(info, /<state>(\w+)<\/state>/);
    if (state === 'success' || state === 'error') return info;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`task ${t} did not finish`);
}

async function hook(path: string, body: unknown, status = 200): Promise<Record<string, unknown>> {
  const r = await call(`${env.V2O_LAB_VSPHERE_EXT_URL}/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  expect(r.status, r.body.toString()).toBe(status);
  return JSON.parse(r.body.toString());
}

let vm = '';
const vmThis = () => `<_this type="VirtualMachine">${vm}</_this>`;

const setCbt = (on: boolean) =>
  task(
    `<ReconfigVM_Task>${vmThis()}<spec><changeTrackingEnabled>${on}</changeTrackingEnabled></spec></ReconfigVM_Task>`,
  );

async function snapshot(name: string): Promise<string> {
  const info = await task(
    `<CreateSnapshot_Task>${vmThis()}<name>${name}</name><description>cbt test</description><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>`,
  );
  expect(first(info, /<state>(\w+)<\/state>/), info).toBe('success');
  return first(info, /<result[^>]*type="VirtualMachineSnapshot">([^<]+)</)!;
}

async function removeSnapshot(ref: string) {
  const info = await task(
    `<RemoveSnapshot_Task><_this type="VirtualMachineSnapshot">${ref}</_this><removeChildren>false</removeChildren><consolidate>true</consolidate></RemoveSnapshot_Task>`,
  );
  expect(first(info, /<state>(\w+)<\/state>/), info).toBe('success');
}

interface Backing {
  fileName: string;
  changeId?: string;
  parent?: string;
  capacity: number;
}

/** The disk `key`'s backing in a device list (VM config or a snapshot's config). */
function backingOf(xml: string, key: number): Backing {
  const dev = xml
    .split('<VirtualDevice ')
    .find((d) => /^[\w-]*:type="VirtualDisk"/.test(d) && d.includes(`<key>${key}</key>`));
  expect(dev, `disk ${key} in ${xml.slice(0, 400)}`).toBeDefined();
  const backing = dev!.slice(dev!.indexOf('<backing'));
  const [top, parent] = [backing.split('<parent')[0]!, backing.split('<parent')[1]];
  return {
    fileName: first(top, /<fileName>([^<]+)</)!,
    changeId: first(top, /<changeId>([^<]+)</),
    parent: parent ? first(parent, /<fileName>([^<]+)</) : undefined,
    capacity: Number(first(dev!, /<capacityInBytes>(\d+)</)),
  };
}

const live = async (key = BOOT) =>
  backingOf(await props('VirtualMachine', vm, 'config.hardware.device'), key);
const frozen = async (snap: string, key = BOOT) =>
  backingOf(await props('VirtualMachineSnapshot', snap, 'config.hardware.device'), key);

interface Page {
  start: number;
  length: number;
  areas: [number, number][];
}

async function queryPage(snap: string | undefined, key: number, start: number, changeId: string) {
  return soap(
    `<QueryChangedDiskAreas>${vmThis()}${snap ? `<snapshot type="VirtualMachineSnapshot">${snap}</snapshot>` : ''}` +
      `<deviceKey>${key}</deviceKey><startOffset>${start}</startOffset><changeId>${xmlEscape(changeId)}</changeId></QueryChangedDiskAreas>`,
  );
}

/** Every page from 0 to the capacity, never stopping at an empty one. */
async function changedAreas(snap: string | undefined, key: number, changeId: string, capacity = CAP) {
  const pages: Page[] = [];
  for (let start = 0; start < capacity; ) {
    const r = await queryPage(snap, key, start, changeId);
    expect(r.status, r.xml).toBe(200);
    const page: Page = {
      start: Number(first(r.xml, /<startOffset>(\d+)</)),
      length: Number(first(r.xml, /<length>(\d+)<\/length>\s*(?:<changedArea|<\/returnval)/)),
      areas: [
        ...r.xml.matchAll(/<changedArea><start>(\d+)<\/start><length>(\d+)<\/length><\/changedArea>/g),
      ].map((m) => [Number(m[1]), Number(m[2])] as [number, number]),
    };
    expect(page.start).toBe(start);
    expect(page.length, r.xml.slice(0, 600)).toBeGreaterThan(0);
    pages.push(page);
    start += page.length;
  }
  return pages;
}

/** The set of 64 KiB blocks the areas cover. */
const blocksOf = (areas: [number, number][]) => {
  const s = new Set<number>();
  for (const [st, len] of areas) for (let b = Math.floor(st / BLOCK); b * BLOCK < st + len; b++) s.add(b);
  return s;
};
const blocksOfWrites = (ws: { offset: number; length: number }[]) =>
  blocksOf(ws.map((w) => [w.offset, w.length]));
const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);

/** What /disk/write puts at a write's offset: AES-256-CTR keystream, key sha256(seed), IV 0. */
const keystream = (seed: string, length: number) => {
  const c = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  return Buffer.concat([c.update(Buffer.alloc(length)), c.final()]);
};

async function rangeRead(dsPath: string, offset: number, length: number): Promise<Buffer> {
  const m = /^\[([^\]]+)\] (.+)$/.exec(dsPath)!;
  const url = `https://${sdk.host}/folder/${m[2]!.split('/').map(encodeURIComponent).join('/')}?dcPath=DC0&dsName=${encodeURIComponent(m[1]!)}`;
  const r = await call(url, { headers: { Cookie: cookie, Range: `bytes=${offset}-${offset + length - 1}` } });
  expect(r.status, r.body.toString().slice(0, 200)).toBe(206);
  return r.body;
}

const flatOf = (descriptor: string) => descriptor.replace(/\.vmdk$/, '-flat.vmdk');
const content = async (disk = 0) =>
  JSON.parse(
    (
      await call(`${env.V2O_LAB_VSPHERE_EXT_URL}/disk/content?vm=${encodeURIComponent(VM)}&disk=${disk}`)
    ).body.toString(),
  ) as { sha256: string; sizeBytes: number; changeId: string };

async function removeAll() {
  const info = await task(`<RemoveAllSnapshots_Task>${vmThis()}</RemoveAllSnapshots_Task>`);
  expect(first(info, /<state>(\w+)<\/state>/), info).toBe('success');
}

beforeAll(async () => {
  const r = await soap(
    `<Login><_this type="SessionManager">SessionManager</_this><userName>${xmlEscape(env.GOVC_USERNAME!)}</userName><password>${xmlEscape(env.GOVC_PASSWORD!)}</password></Login>`,
  );
  expect(r.status, r.xml).toBe(200);
  const vms = JSON.parse((await call(`${env.V2O_LAB_VSPHERE_EXT_URL}/vms`)).body.toString()) as {
    name: string;
    moref: string;
  }[];
  vm = vms.find((v) => v.name === VM)!.moref;
  // A known start: running, no snapshots, CBT off (and in effect: a stun applies it).
  await hook('reset', { vm: VM });
  await hook('snapshot/fault', { vm: VM, fault: null });
  await removeAll();
  await hook('disk/restore', { vm: VM }); // the seeded bytes: earlier runs consolidated theirs
  await setCbt(false);
  await removeSnapshot(await snapshot('stun'));
});

afterAll(async () => {
  if (!vm) return;
  await hook('snapshot/fault', { vm: VM, fault: null });
  await removeAll();
  await hook('disk/restore', { vm: VM });
  await setCbt(false);
  await hook('reset', { vm: VM });
  await removeSnapshot(await snapshot('stun'));
});

describe('vSphere lab: CBT and frozen flat extents', () => {
  let c0 = ''; // changeId right after CBT took effect
  let s1 = '';
  let cs1 = ''; // the changeId in s1's own config
  const writesA = [
    { offset: 10 * MiB, length: 256 * 1024, seed: 'a-1' },
    { offset: 20 * MiB + 1000, length: 5000, seed: 'a-2' }, // partial blocks
    // 600 separate 64 KiB areas (a gap of one block between them): more than one answer's 512
    ...Array.from({ length: 600 }, (_, i) => ({
      offset: 40 * MiB + i * 2 * BLOCK,
      length: BLOCK,
      seed: `a-many-${i}`,
    })),
  ];
  const writesB = [
    { offset: 10 * MiB + 128 * 1024, length: 256 * 1024, seed: 'b-1' }, // half over a-1
    { offset: 180 * MiB, length: MiB, seed: 'b-2' },
  ];

  it('takes changeTrackingEnabled by ReconfigVM and activates it only at a stun', async () => {
    await setCbt(true);
    const cfg = await props('VirtualMachine', vm, 'config.changeTrackingEnabled');
    expect(cfg).toMatch(/type="xsd:boolean">true<\/val>/);
    expect((await live()).changeId, 'no changeId before a stun').toBeUndefined();
    const s = await snapshot('not-yet');
    // the snapshot itself was the stun; its frozen backing already carries the new ctk
    const r = await queryPage(s, BOOT, 0, '*');
    expect(r.status).toBe(200);
    await removeSnapshot(s);
    const b = await live();
    expect(b.changeId).toMatch(/^52( [0-9a-f]{2}){7}-[0-9a-f]{2}( [0-9a-f]{2}){7}\/\d+$/);
    expect(b.fileName).toBe(`[LocalDS_0] ${VM}/${VM}.vmdk`);
    expect((await live(2001)).changeId).toMatch(/^52 /);
    c0 = b.changeId!;
  });

  it('moves the live changeId with every guest write and freezes the flat extent in a snapshot', async () => {
    const w = await hook('disk/write', { vm: VM, disk: 0, writes: writesA });
    expect(w.changeId).not.toBe(c0);
    expect((await live()).changeId).toBe(w.changeId);
    s1 = await snapshot('s1');
    const f = await frozen(s1);
    expect(f.fileName).toBe(`[LocalDS_0] ${VM}/${VM}.vmdk`);
    cs1 = f.changeId!;
    expect(cs1).toBe(w.changeId);
    const l = await live();
    expect(l.fileName).toBe(`[LocalDS_0] ${VM}/${VM}-000001.vmdk`);
    expect(l.parent).toBe(f.fileName);
    const desc = readFileSync(join(env.V2O_LAB_VSPHERE_DATASTORE_DIR!, VM, `${VM}-000001.vmdk`), 'utf8');
    expect(desc).toContain('createType="vmfsSparse"');
    expect(desc).toContain(`parentFileNameHint="${VM}.vmdk"`);

    const w2 = await hook('disk/write', { vm: VM, disk: 0, writes: writesB });
    expect(w2.changeId).not.toBe(cs1);
    expect((await live()).changeId).toBe(w2.changeId);
    expect((await frozen(s1)).changeId, "the snapshot's changeId stays").toBe(cs1);
  });

  it('answers QueryChangedDiskAreas with exactly the blocks written up to the snapshot, paged', async () => {
    const pages = await changedAreas(s1, BOOT, c0);
    const areas = pages.flatMap((p) => p.areas);
    expect(sorted(blocksOf(areas))).toEqual(sorted(blocksOfWrites(writesA)));
    for (const p of pages) {
      expect(p.length).toBeLessThanOrEqual(128 * MiB);
      expect(p.areas.length).toBeLessThanOrEqual(512);
      for (const [s, l] of p.areas) {
        expect(s).toBeGreaterThanOrEqual(p.start);
        expect(s + l).toBeLessThanOrEqual(p.start + p.length);
        expect(s % BLOCK).toBe(0);
      }
    }
    expect(
      pages.some((p) => p.areas.length === 512),
      'one answer stopped at 512 areas',
    ).toBe(true);
    expect(
      pages.some((p) => p.areas.length === 0),
      'an empty page that still moves on',
    ).toBe(true);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.at(-1)!.start + pages.at(-1)!.length).toBe(CAP);
  });

  it('answers "*" with the allocated blocks of the frozen disk', async () => {
    const all = blocksOf((await changedAreas(s1, BOOT, '*')).flatMap((p) => p.areas));
    for (const b of blocksOfWrites(writesA)) expect(all.has(b)).toBe(true);
    expect(all.has((180 * MiB) / BLOCK), 'b-2 came after the snapshot: not in it').toBe(false);
    // the seeded data (0-2 MiB, 64 MiB, ...) and the state region (254 MiB) are allocated, holes are not
    expect(all.has(0)).toBe(true);
    expect(all.has((254 * MiB) / BLOCK)).toBe(true);
    expect(all.has((200 * MiB) / BLOCK)).toBe(false);
  });

  it('serves the frozen bytes of the base flat extent by Range while the guest writes on', async () => {
    const base = flatOf((await frozen(s1)).fileName);
    const a1 = await rangeRead(base, 10 * MiB, 256 * 1024);
    expect(a1.equals(keystream('a-1', 256 * 1024)), 'a-1 as written before the snapshot').toBe(true);
    const a2 = await rangeRead(base, 20 * MiB + 1000, 5000);
    expect(a2.equals(keystream('a-2', 5000))).toBe(true);
    const where = await rangeRead(base, 180 * MiB, 4096);
    expect(where.equals(Buffer.alloc(4096)), 'b-2 is in the delta, not the base').toBe(true);
  });

  it('refuses a changeId in the future or of the wrong shape, and the current state of a running VM', async () => {
    const [epoch, seq] = cs1.split('/');
    let r = await queryPage(s1, BOOT, 0, `${epoch}/${Number(seq) + 1}`);
    expect(r.status).toBe(500);
    expect(r.xml).toContain('FileFault');
    r = await queryPage(s1, BOOT, 0, 'garbage');
    expect(r.xml).toContain('InvalidArgument');
    r = await queryPage(undefined, BOOT, 0, c0);
    expect(r.status).toBe(500);
    expect(r.xml).toContain('InvalidPowerState');
    r = await queryPage(s1, 2999, 0, c0);
    expect(r.xml).toContain('InvalidArgument');
  });

  it('consolidates the delta into the base when the snapshot goes', async () => {
    const before = await content();
    await removeSnapshot(s1);
    const l = await live();
    expect(l.fileName).toBe(`[LocalDS_0] ${VM}/${VM}.vmdk`);
    expect(l.parent).toBeUndefined();
    expect(
      readdirSync(join(env.V2O_LAB_VSPHERE_DATASTORE_DIR!, VM)).filter((f) => f.includes('-00000')),
    ).toEqual([]);
    const after = await content();
    expect(after.sha256, 'the guest sees the same disk').toBe(before.sha256);
    const b1 = await rangeRead(flatOf(l.fileName), 10 * MiB + 128 * 1024, 256 * 1024);
    expect(b1.equals(keystream('b-1', 256 * 1024))).toBe(true);
    const a1head = await rangeRead(flatOf(l.fileName), 10 * MiB, 128 * 1024);
    expect(a1head.equals(keystream('a-1', 256 * 1024).subarray(0, 128 * 1024))).toBe(true);
  });

  it("reports, since the snapshot's changeId, the writes made after it", async () => {
    const s2 = await snapshot('s2');
    const areas = (await changedAreas(s2, BOOT, cs1)).flatMap((p) => p.areas);
    expect(sorted(blocksOf(areas))).toEqual(sorted(blocksOfWrites(writesB)));
    // the data disk had no writes: no areas, every page empty
    const data = await changedAreas(s2, 2001, (await frozen(s2, 2001)).changeId!, 64 * MiB);
    expect(data.flatMap((p) => p.areas)).toEqual([]);
    await removeSnapshot(s2);
  });

  it('refuses changeIds from before a CBT reset with FileFault', async () => {
    const r0 = await hook('disk/cbt-reset', { vm: VM });
    expect(JSON.stringify(r0)).not.toContain(cs1.split('/')[0]);
    const s3 = await snapshot('s3');
    const r = await queryPage(s3, BOOT, 0, cs1);
    expect(r.status).toBe(500);
    expect(r.xml).toContain('FileFault');
    expect(r.xml).toContain('Error caused by file');
    const fresh = await frozen(s3);
    expect(fresh.changeId!.split('/')[0]).not.toBe(cs1.split('/')[0]);
    expect((await queryPage(s3, BOOT, 0, '*')).status).toBe(200);
    await removeSnapshot(s3);
  });

  it('grows a disk as a ReconfigVM extend does, and refuses while a snapshot exists', async () => {
    // the lab keeps disks across resets: grow from whatever this start has
    const grown = (await live(2001)).capacity + 32 * MiB;
    const s = await snapshot('no-grow');
    await hook('disk/grow', { vm: VM, disk: 1, capacityBytes: grown }, 409);
    await removeSnapshot(s);
    await hook('disk/grow', { vm: VM, disk: 1, capacityBytes: grown - 64 * MiB }, 400);
    const g = await hook('disk/grow', { vm: VM, disk: 1, capacityBytes: grown });
    expect(g.capacityBytes).toBe(grown);
    expect((await live(2001)).capacity).toBe(grown);
    const dir = join(env.V2O_LAB_VSPHERE_DATASTORE_DIR!, VM);
    expect(readFileSync(join(dir, `${VM}_1.vmdk`), 'utf8')).toMatch(
      new RegExp(`^RW ${grown / 512} FLAT `, 'm'),
    );
    expect((await content(1)).sizeBytes).toBe(grown);
    // the new space is unallocated: "*" on a fresh snapshot does not list it
    const s2 = await snapshot('grown');
    const all = blocksOf((await changedAreas(s2, 2001, '*', grown)).flatMap((p) => p.areas));
    expect(all.has((grown - BLOCK) / BLOCK)).toBe(false);
    await removeSnapshot(s2);
  });

  it('fails a snapshot with NoDiskSpace when the datastore is full', async () => {
    await hook('snapshot/fault', { vm: VM, fault: 'NoDiskSpace' });
    const info = await task(
      `<CreateSnapshot_Task>${vmThis()}<name>full</name><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>`,
    );
    expect(first(info, /<state>(\w+)<\/state>/)).toBe('error');
    expect(info).toContain('NoDiskSpace');
    expect(info).toContain('<datastore>LocalDS_0</datastore>');
    await hook('snapshot/fault', { vm: VM, fault: null });
    await removeSnapshot(await snapshot('fine-again'));
  });

  it('sets runtime.consolidationNeeded by hook', async () => {
    await hook('vm/consolidation-needed', { vm: VM, value: true });
    expect(await props('VirtualMachine', vm, 'runtime.consolidationNeeded')).toContain('>true<');
    await hook('vm/consolidation-needed', { vm: VM, value: false });
    expect(await props('VirtualMachine', vm, 'runtime.consolidationNeeded')).toContain('>false<');
  });

  it('faults ShutdownGuest with ToolsUnavailable when Tools are not running', async () => {
    await hook('guest', { vm: VM, tools: 'notRunning' });
    const r = await soap(`<ShutdownGuest>${vmThis()}</ShutdownGuest>`);
    expect(r.status).toBe(500);
    expect(r.xml).toContain('ToolsUnavailable');
    expect(await props('VirtualMachine', vm, 'runtime.powerState')).toContain('poweredOn');
    await hook('guest', { vm: VM, tools: 'running' });
  });

  it('tracks the guest state written at power-off, and answers for the current state of a powered-off VM', async () => {
    const before = (await live()).changeId!;
    // a change to the guest model, which the power-off writes into the state region (254 MiB)
    await hook('guest/state', { vm: VM, files: { 'C:\\cbt-test.txt': `power-off ${Date.now()}` } });
    const off = await task(`<PowerOffVM_Task>${vmThis()}</PowerOffVM_Task>`);
    expect(first(off, /<state>(\w+)<\/state>/)).toBe('success');
    const after = (await live()).changeId!;
    expect(after).not.toBe(before);
    const areas = (await changedAreas(undefined, BOOT, before)).flatMap((p) => p.areas);
    const blocks = blocksOf(areas);
    expect(blocks.size).toBeGreaterThan(0);
    for (const b of blocks) {
      expect(b * BLOCK).toBeGreaterThanOrEqual(254 * MiB);
      expect(b * BLOCK).toBeLessThan(255 * MiB);
    }
    await hook('disk/write', { vm: VM, disk: 0, writes: [{ offset: 0, length: 512, seed: 'off' }] }, 409);
    const on = await task(`<PowerOnVM_Task>${vmThis()}</PowerOnVM_Task>`);
    expect(first(on, /<state>(\w+)<\/state>/)).toBe('success');
  });

  it('reports the lab datastore as VMFS', async () => {
    const r = await soap(
      `<RetrievePropertiesEx><_this type="PropertyCollector">propertyCollector</_this><specSet><propSet><type>VirtualMachine</type><pathSet>datastore</pathSet></propSet><objectSet><obj type="VirtualMachine">${vm}</obj></objectSet></specSet><options/></RetrievePropertiesEx>`,
    );
    const ref = first(r.xml, /<ManagedObjectReference type="Datastore">([^<]+)</)!;
    expect(ref, r.xml).toBeDefined();
    expect(await props('Datastore', ref, 'summary.type')).toContain('>VMFS<');
  });
});
