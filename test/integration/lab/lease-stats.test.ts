// The vSphere lab's export-lease counters (test/lab/vsphere/vcsim/simext/zz_v2o_leasestats.go, issue 15):
// what the simulator itself sees held per ESXi host, for fleet tests to check limits against. Plain
// node:https and SOAP on purpose, independent of the client in src/vsphere.

import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEnv } from '../../helpers/lab-env.js';

const env = labEnv();
const sdk = new URL(env.GOVC_URL ?? 'https://127.0.0.1:18989/sdk');
const ca = env.GOVC_TLS_CA_CERTS ? readFileSync(env.GOVC_TLS_CA_CERTS) : undefined;
const ext = env.V2O_LAB_VSPHERE_EXT_URL ?? `https://${sdk.host}/v2o-ext`;
const wave = (env.V2O_LAB_VSPHERE_WAVE_VMS ?? '').split(',').filter(Boolean);

interface Count {
  current: number;
  max: number;
}
interface Stats {
  hosts: Record<string, Count>;
  total: Count;
  datastoreReads: { hosts: Record<string, Count>; total: Count };
}

function call(url: string | URL, method = 'GET', body?: string, headers: Record<string, string> = {}) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const req = request(url, { method, headers, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

let cookie = '';
async function soap(inner: string): Promise<string> {
  const r = await call(
    sdk,
    'POST',
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:vim25">' +
      `<soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`,
    {
      'Content-Type': 'text/xml; charset=utf-8',
      SOAPAction: '"urn:vim25/7.0"',
      ...(cookie ? { Cookie: cookie } : {}),
    },
  );
  const set = r.headers['set-cookie'];
  if (Array.isArray(set) && set.length) cookie = set[0]!.split(';')[0]!;
  expect(r.status, r.body).toBe(200);
  return r.body;
}
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const first = (xml: string, re: RegExp) => re.exec(xml)?.[1];

async function props(type: string, ref: string, path: string): Promise<string> {
  return soap(
    `<RetrievePropertiesEx><_this type="PropertyCollector">propertyCollector</_this><specSet><propSet><type>${type}</type>` +
      `<pathSet>${path}</pathSet></propSet><objectSet><obj type="${type}">${esc(ref)}</obj></objectSet></specSet><options/></RetrievePropertiesEx>`,
  );
}

async function waitFor(what: string, check: () => Promise<boolean>) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function stats(): Promise<Stats> {
  const r = await call(`${ext}/leases/stats`);
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body) as Stats;
}
async function resetStats(): Promise<Stats> {
  const r = await call(`${ext}/leases/stats/reset`, 'POST');
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body) as Stats;
}

interface LabVm {
  name: string;
  moref: string;
}
let vms: LabVm[] = [];
const hostOf = new Map<string, string>(); // moref -> host name

async function hostName(moref: string): Promise<string> {
  const host = first(await props('VirtualMachine', moref, 'runtime.host'), /\btype="HostSystem">([^<]+)</);
  expect(host).toBeDefined();
  const name = first(await props('HostSystem', host!, 'name'), /<name>name<\/name><val[^>]*>([^<]+)</);
  expect(name).toBeDefined();
  return name!;
}

async function powerOff(moref: string) {
  const state = first(
    await props('VirtualMachine', moref, 'runtime.powerState'),
    />(poweredOn|poweredOff|suspended)</,
  );
  if (state === 'poweredOff') return;
  const xml = await soap(`<PowerOffVM_Task><_this type="VirtualMachine">${moref}</_this></PowerOffVM_Task>`);
  const task = first(xml, /<returnval type="Task">([^<]+)</)!;
  await waitFor(`power-off of ${moref}`, async () =>
    /<state>success<\/state>/.test(await props('Task', task, 'info')),
  );
}

const open: string[] = []; // leases this file made: aborted in afterAll unless they ended
async function exportVm(moref: string): Promise<string> {
  const xml = await soap(`<ExportVm><_this type="VirtualMachine">${moref}</_this></ExportVm>`);
  const lease = first(xml, /<returnval type="HttpNfcLease">([^<]+)</);
  expect(lease, xml).toBeDefined();
  open.push(lease!);
  return lease!;
}
const leaseState = async (lease: string) =>
  first(await props('HttpNfcLease', lease, 'state'), /HttpNfcLeaseState">(\w+)</);
async function complete(lease: string) {
  await waitFor(`lease ${lease} ready`, async () => (await leaseState(lease)) === 'ready');
  await soap(`<HttpNfcLeaseComplete><_this type="HttpNfcLease">${esc(lease)}</_this></HttpNfcLeaseComplete>`);
  expect(await leaseState(lease)).toBe('done');
}

describe('the vSphere lab counts export leases per ESXi host', () => {
  beforeAll(async () => {
    expect(wave).toHaveLength(8);
    await soap(
      `<Login><_this type="SessionManager">SessionManager</_this><userName>${esc(env.GOVC_USERNAME!)}</userName><password>${esc(env.GOVC_PASSWORD!)}</password></Login>`,
    );
    const all = JSON.parse((await call(`${ext}/vms`)).body) as LabVm[];
    vms = wave.map((n) => all.find((v) => v.name === n)!);
    for (const v of vms) {
      expect(v, 'wave VM seeded').toBeDefined();
      hostOf.set(v.moref, await hostName(v.moref));
    }
  });
  afterAll(async () => {
    // a failed assertion must not leave leases holding hosts for the next test file (they would
    // time out only after 300 s)
    for (const l of open) {
      const state = await leaseState(l).catch(() => undefined);
      if (state === 'initializing' || state === 'ready')
        await soap(
          `<HttpNfcLeaseAbort><_this type="HttpNfcLease">${esc(l)}</_this></HttpNfcLeaseAbort>`,
        ).catch(() => {});
    }
    for (const v of vms.slice(0, 4)) await call(`${ext}/reset`, 'POST', JSON.stringify({ vm: v.name }));
  });

  it('spreads the wave over both hosts of the cluster', () => {
    const hosts = [...new Set(hostOf.values())].sort();
    expect(hosts).toHaveLength(2);
    for (const h of hosts) expect([...hostOf.values()].filter((x) => x === h)).toHaveLength(4);
  });

  it('shows two leases held at once on one host, none after Complete; reset starts max over', async () => {
    const [a, b] = vms.filter((v) => hostOf.get(v.moref) === hostOf.get(vms[0]!.moref));
    const other = vms.find((v) => hostOf.get(v.moref) !== hostOf.get(a!.moref))!;
    const host = hostOf.get(a!.moref)!;
    const otherHost = hostOf.get(other.moref)!;
    for (const v of [a!, b!, other]) await powerOff(v.moref);

    const before = await resetStats();
    expect(Object.keys(before.hosts)).toEqual(expect.arrayContaining([host, otherHost]));
    expect(before.hosts[host]).toEqual({ current: 0, max: 0 });

    const l1 = await exportVm(a!.moref);
    expect((await stats()).hosts[host]).toEqual({ current: 1, max: 1 }); // counted from creation (initializing)
    const l2 = await exportVm(b!.moref);
    let s = await stats();
    expect(s.hosts[host]).toEqual({ current: 2, max: 2 });
    expect(s.hosts[otherHost]).toEqual({ current: 0, max: 0 });
    expect(s.total).toEqual({ current: 2, max: 2 });

    await complete(l1);
    expect((await stats()).hosts[host]).toEqual({ current: 1, max: 2 });
    // a second Complete is refused and counts nothing off twice
    const again = await call(
      sdk,
      'POST',
      `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:vim25"><soapenv:Body><HttpNfcLeaseComplete><_this type="HttpNfcLease">${esc(l1)}</_this></HttpNfcLeaseComplete></soapenv:Body></soapenv:Envelope>`,
      { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:vim25/7.0"', Cookie: cookie },
    );
    expect(again.status).toBe(500);
    await complete(l2);
    s = await stats();
    expect(s.hosts[host]).toEqual({ current: 0, max: 2 });
    expect(s.total).toEqual({ current: 0, max: 2 });

    // an abort ends a lease as well (here one on the other host, aborted while still initializing)
    const l3 = await exportVm(other.moref);
    expect((await stats()).hosts[otherHost]).toEqual({ current: 1, max: 1 });
    await soap(`<HttpNfcLeaseAbort><_this type="HttpNfcLease">${esc(l3)}</_this></HttpNfcLeaseAbort>`);
    expect((await stats()).hosts[otherHost]).toEqual({ current: 0, max: 1 });

    const after = await resetStats();
    expect(after.hosts[host]).toEqual({ current: 0, max: 0 });
    expect(after.hosts[otherHost]).toEqual({ current: 0, max: 0 });
    expect(after.total).toEqual({ current: 0, max: 0 });
  });

  it('reset keeps what is still held: max drops to current, not to 0', async () => {
    const v = vms[3]!;
    const host = hostOf.get(v.moref)!;
    await powerOff(v.moref);
    const l = await exportVm(v.moref);
    expect((await resetStats()).hosts[host]).toEqual({ current: 1, max: 1 });
    await complete(l);
    expect((await stats()).hosts[host]).toEqual({ current: 0, max: 1 });
  });

  it('counts a datastore read of a VM disk on its host while it is served', async () => {
    const v = vms[2]!;
    const host = hostOf.get(v.moref)!;
    await resetStats();
    const url = new URL(`/folder/${v.name}/${v.name}.vmdk`, sdk);
    url.searchParams.set('dcPath', env.GOVC_DATACENTER ?? 'DC0');
    url.searchParams.set('dsName', env.GOVC_DATASTORE ?? 'LocalDS_0');
    const r = await call(url, 'GET', undefined, { Cookie: cookie });
    expect(r.status).toBe(200);
    const s = await stats();
    expect(s.datastoreReads.hosts[host]).toEqual({ current: 0, max: 1 });
    expect(s.hosts[host]).toEqual({ current: 0, max: 0 }); // not a lease
  });
});
