// The vSphere lab itself (test/lab/vsphere): env file, TLS pinned to the lab CA, the ExportVm
// lease serving the seeded disks, scripted guest operations. Plain node:https on purpose, so the
// lab is checked independently of the client in src/vsphere.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEnv } from '../../helpers/lab-env.js';

const env = labEnv();
const sdk = new URL(env.GOVC_URL ?? 'https://127.0.0.1:18989/sdk');
const ca = existsSync(env.GOVC_TLS_CA_CERTS ?? '') ? readFileSync(env.GOVC_TLS_CA_CERTS!) : undefined;
const VM = 'win11-desk01'; // exported and scripted here; restored by the reset hook afterwards

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function call(
  url: string | URL,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    ca?: Buffer | null;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        ca: opts.ca === null ? undefined : (opts.ca ?? ca),
        agent: false,
      },
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
const lab = (u: string) => u.replace('https://*', `https://${sdk.host}`);

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
  if (set?.length) cookie = set[0]!.split(';')[0]!;
  return { status: r.status, xml: r.body.toString('utf8') };
}

const first = (xml: string, re: RegExp) => re.exec(xml)?.[1];
const login = (user: string, password: string) =>
  soap(
    `<Login><_this type="SessionManager">SessionManager</_this><userName>${xmlEscape(user)}</userName><password>${xmlEscape(password)}</password></Login>`,
  );

async function props(type: string, ref: string, ...paths: string[]): Promise<string> {
  const r = await soap(
    `<RetrievePropertiesEx><_this type="PropertyCollector">propertyCollector</_this><specSet><propSet><type>${type}</type>` +
      `${paths.map((p) => `<pathSet>${p}</pathSet>`).join('')}</propSet><objectSet><obj type="${type}">${xmlEscape(ref)}</obj></objectSet>` +
      '</specSet><options/></RetrievePropertiesEx>',
  );
  expect(r.status).toBe(200);
  return r.xml;
}

async function waitTask(xml: string): Promise<string> {
  const task = first(xml, /<returnval type="Task">([^<]+)</);
  expect(task, xml).toBeDefined();
  for (let i = 0; i < 100; i++) {
    const info = await props('Task', task!, 'info');
    const state = first(info, /<state>(\w+)<\/state>/);
    if (state === 'success' || state === 'error') return info;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${task} did not finish`);
}

async function hook(path: string, body: unknown): Promise<unknown> {
  const r = await call(`${env.V2O_LAB_VSPHERE_EXT_URL}/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  expect(r.status, r.body.toString()).toBe(200);
  return JSON.parse(r.body.toString());
}

let vmRef = '';
const guestAuth = (password = env.V2O_LAB_GUEST_PASSWORD!) =>
  `<auth xsi:type="NamePasswordAuthentication"><interactiveSession>false</interactiveSession><username>${xmlEscape(env.V2O_LAB_GUEST_USERNAME!)}</username><password>${xmlEscape(password)}</password></auth>`;

async function startProgram(vm: string, program: string, args: string, password?: string) {
  return soap(
    `<StartProgramInGuest><_this type="GuestProcessManager">guestOperationsProcessManager</_this><vm type="VirtualMachine">${vm}</vm>${guestAuth(password)}` +
      `<spec xsi:type="GuestProgramSpec"><programPath>${xmlEscape(program)}</programPath><arguments>${xmlEscape(args)}</arguments></spec></StartProgramInGuest>`,
  );
}

async function waitExit(vm: string, pid: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const r = await soap(
      `<ListProcessesInGuest><_this type="GuestProcessManager">guestOperationsProcessManager</_this><vm type="VirtualMachine">${vm}</vm>${guestAuth()}<pids>${pid}</pids></ListProcessesInGuest>`,
    );
    expect(r.status, r.xml).toBe(200);
    // govmomi's encoder omits exitCode 0 (omitempty): a finished process without one exited 0.
    if (r.xml.includes('<endTime>')) return Number(first(r.xml, /<exitCode>(-?\d+)<\/exitCode>/) ?? 0);
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`process ${pid} did not end`);
}

async function fromGuest(vm: string, path: string): Promise<Buffer> {
  const r = await soap(
    `<InitiateFileTransferFromGuest><_this type="GuestFileManager">guestOperationsFileManager</_this><vm type="VirtualMachine">${vm}</vm>${guestAuth()}<guestFilePath>${xmlEscape(path)}</guestFilePath></InitiateFileTransferFromGuest>`,
  );
  expect(r.status, r.xml).toBe(200);
  const url = first(r.xml, /<url>([^<]+)<\/url>/)!;
  expect(url).toMatch(/^https:\/\/\*\//);
  const got = await call(lab(url));
  expect(got.status).toBe(200);
  expect(Number(first(r.xml, /<size>(\d+)<\/size>/))).toBe(got.body.length);
  return got.body;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  const r = await login(env.GOVC_USERNAME!, env.GOVC_PASSWORD!);
  expect(r.status, r.xml).toBe(200);
  const vms = JSON.parse((await call(`${env.V2O_LAB_VSPHERE_EXT_URL}/vms`)).body.toString()) as {
    name: string;
    moref: string;
  }[];
  vmRef = vms.find((v) => v.name === VM)!.moref;
  await hook('reset', { vm: VM });
});

afterAll(async () => {
  if (vmRef) await hook('reset', { vm: VM });
});

describe('vSphere lab', () => {
  it('writes a complete env file and disk manifest', () => {
    for (const k of [
      'GOVC_URL',
      'GOVC_USERNAME',
      'GOVC_PASSWORD',
      'GOVC_TLS_CA_CERTS',
      'V2O_LAB_VSPHERE_EXT_URL',
      'V2O_LAB_VIRTIO_WIN_URL',
      'V2O_LAB_VIRTIO_WIN_SHA256',
      'V2O_LAB_VSPHERE_DISKS',
      'V2O_LAB_GUEST_USERNAME',
      'V2O_LAB_GUEST_PASSWORD',
    ]) {
      expect(env[k], k).toBeTruthy();
    }
    expect(env.GOVC_URL).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/sdk$/);
    expect(env.V2O_LAB_VIRTIO_WIN_SHA256).toMatch(/^[0-9a-f]{64}$/);
    const manifest = JSON.parse(readFileSync(env.V2O_LAB_VSPHERE_DISKS!, 'utf8'));
    const names = manifest.vms.map((v: { name: string }) => v.name);
    expect(names).toEqual(
      expect.arrayContaining([
        env.V2O_LAB_VSPHERE_VM,
        env.V2O_LAB_VSPHERE_VM_EFI,
        env.V2O_LAB_VSPHERE_VM_UNICODE,
        env.V2O_LAB_VSPHERE_VM_2012,
        env.V2O_LAB_VSPHERE_VM_2025,
        env.V2O_LAB_VSPHERE_VM_WIN10,
        env.V2O_LAB_VSPHERE_VM_STATIC,
      ]),
    );
    const db = manifest.vms.find((v: { name: string }) => v.name === 'win2022-db01');
    expect(db.disks.map((d: { format: string }) => d.format)).toEqual([
      'streamOptimized',
      'monolithicSparse',
      'monolithicFlat',
    ]);
  });

  it('verifies TLS with the lab CA, for 127.0.0.1 and localhost, and fails without it', async () => {
    expect((await call(new URL('/about', sdk))).status).toBe(200);
    expect((await call(`https://localhost:${sdk.port}/about`)).status).toBe(200);
    await expect(call(new URL('/about', sdk), { ca: null })).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
  });

  it('enforces the credentials', async () => {
    const saved = cookie;
    cookie = '';
    const bad = await login(env.GOVC_USERNAME!, 'wrong-password');
    expect(bad.status).toBe(500);
    expect(bad.xml).toContain('InvalidLogin');
    cookie = saved;
  });

  it('serves the disks through an ExportVm lease with Range, Progress and Complete', async () => {
    await waitTask(
      (await soap(`<PowerOffVM_Task><_this type="VirtualMachine">${vmRef}</_this></PowerOffVM_Task>`)).xml,
    );
    const exp = await soap(`<ExportVm><_this type="VirtualMachine">${vmRef}</_this></ExportVm>`);
    expect(exp.status, exp.xml).toBe(200);
    const lease = first(exp.xml, /<returnval type="HttpNfcLease">([^<]+)</)!;
    // The lease starts "initializing", then turns "ready".
    let info = await props('HttpNfcLease', lease, 'state', 'info');
    expect(info).toMatch(/HttpNfcLeaseState">(initializing|ready)</);
    for (let i = 0; i < 100 && !/HttpNfcLeaseState">ready</.test(info); i++) {
      await new Promise((res) => setTimeout(res, 50));
      info = await props('HttpNfcLease', lease, 'state', 'info');
    }
    expect(info).toMatch(/HttpNfcLeaseState">ready</);
    const url = lab(first(info, /<url>([^<]+)<\/url>/)!);

    const manifest = JSON.parse(readFileSync(env.V2O_LAB_VSPHERE_DISKS!, 'utf8'));
    const disk = manifest.vms.find((v: { name: string }) => v.name === VM).disks[0];
    expect(disk.format).toBe('streamOptimized');

    const head = await call(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(disk.export.size);

    const whole = await call(url);
    expect(whole.status).toBe(200);
    expect(sha256(whole.body)).toBe(disk.export.sha256);
    // Same bytes as the file on the datastore (fetched through vcsim's datastore HTTP access).
    const [, dsPath] = /^\[[^\]]+\] (.*)$/.exec(disk.datastorePath)!;
    const ds = await call(
      `https://${sdk.host}/folder/${dsPath!.split('/').map(encodeURIComponent).join('/')}?dcPath=DC0&dsName=LocalDS_0`,
      { headers: { Cookie: cookie } },
    );
    expect(ds.status).toBe(200);
    expect(ds.body.equals(whole.body)).toBe(true);
    const anonymous = await call(
      `https://${sdk.host}/folder/${dsPath!.split('/').map(encodeURIComponent).join('/')}?dcPath=DC0&dsName=LocalDS_0`,
    );
    expect(anonymous.status).toBe(401);

    const part = await call(url, { headers: { Range: 'bytes=512-1535' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 512-1535/${disk.export.size}`);
    expect(part.body.equals(whole.body.subarray(512, 1536))).toBe(true);

    // The stream is a real VMDK of the disk's content.
    const dir = mkdtempSync(join(tmpdir(), 'v2o-lab-'));
    try {
      writeFileSync(join(dir, 'd.vmdk'), whole.body);
      execFileSync('qemu-img', [
        'convert',
        '-f',
        'vmdk',
        '-O',
        'raw',
        join(dir, 'd.vmdk'),
        join(dir, 'd.raw'),
      ]);
      expect(sha256(readFileSync(join(dir, 'd.raw')))).toBe(disk.rawSha256);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const progress = await soap(
      `<HttpNfcLeaseProgress><_this type="HttpNfcLease">${xmlEscape(lease)}</_this><percent>50</percent></HttpNfcLeaseProgress>`,
    );
    expect(progress.status, progress.xml).toBe(200);
    const done = await soap(
      `<HttpNfcLeaseComplete><_this type="HttpNfcLease">${xmlEscape(lease)}</_this></HttpNfcLeaseComplete>`,
    );
    expect(done.status, done.xml).toBe(200);
    expect(await props('HttpNfcLease', lease, 'state')).toMatch(/HttpNfcLeaseState">done</);
    expect((await call(url)).status).toBe(404);
  });

  it('runs guest operations in the simulated Windows guest with scripted outcomes', async () => {
    await hook('reset', { vm: VM });
    // Put a driver package into the guest, then make pnputil fail for viostor.
    const up = await soap(
      `<InitiateFileTransferToGuest><_this type="GuestFileManager">guestOperationsFileManager</_this><vm type="VirtualMachine">${vmRef}</vm>${guestAuth()}` +
        `<guestFilePath>C:\\drivers\\viostor\\w11\\amd64\\viostor.inf</guestFilePath><fileAttributes xsi:type="GuestWindowsFileAttributes"/><fileSize>8</fileSize><overwrite>true</overwrite></InitiateFileTransferToGuest>`,
    );
    expect(up.status, up.xml).toBe(200);
    const put = await call(lab(first(up.xml, /<returnval>([^<]+)<\/returnval>/)!), {
      method: 'PUT',
      body: '[Version]',
    });
    expect(put.status).toBe(200);

    await hook('guest/state', {
      vm: VM,
      failDrivers: { viostor: { exitCode: 5, message: 'Access is denied.' } },
    });
    const cmd = 'C:\\Windows\\System32\\cmd.exe';
    let r = await startProgram(
      vmRef,
      cmd,
      '/c pnputil /add-driver C:\\drivers\\viostor\\w11\\amd64\\*.inf /install > C:\\Windows\\Temp\\v2o.txt 2>&1',
    );
    expect(r.status, r.xml).toBe(200);
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(5);
    expect((await fromGuest(vmRef, 'C:\\Windows\\Temp\\v2o.txt')).toString()).toContain(
      'Failed to add driver package: Access is denied.',
    );

    // Unscripted: pnputil stages the package and installs it on no device (there is no virtio
    // device on VMware): exit 259, the package in the driver store, but no service key and no .sys.
    await hook('guest/state', { vm: VM, failDrivers: { viostor: { exitCode: 0 } } });
    r = await startProgram(
      vmRef,
      cmd,
      '/c pnputil /add-driver C:\\drivers\\viostor\\w11\\amd64\\*.inf /install > C:\\Windows\\Temp\\a.txt & reg query HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor > C:\\Windows\\Temp\\q.txt 2>&1',
    );
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(1);
    expect((await fromGuest(vmRef, 'C:\\Windows\\Temp\\a.txt')).toString()).toMatch(
      /Published Name:\s+oem\d+\.inf/,
    );
    expect((await fromGuest(vmRef, 'C:\\Windows\\Temp\\q.txt')).toString()).toContain('unable to find');
    let g = JSON.parse((await call(`${env.V2O_LAB_VSPHERE_EXT_URL}/guest/state?vm=${VM}`)).body.toString());
    expect(g.history.at(-1).commands[0]).toMatch(/^pnputil/);
    const files = Object.keys(g.files).map((f) => f.toLowerCase());
    expect(
      files.some((f) => /driverstore\\filerepository\\viostor\.inf_amd64_[0-9a-f]+\\viostor\.inf$/.test(f)),
    ).toBe(true);
    expect(files.some((f) => /^c:\\windows\\inf\\oem\d+\.inf$/.test(f))).toBe(true);
    expect(files).not.toContain('c:\\windows\\system32\\drivers\\viostor.sys');

    // Start pinned at 3 survives `reg add`, as a failing boot-critical fix would.
    await hook('guest/state', {
      vm: VM,
      pin: { 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor\\Start': 3 },
    });
    r = await startProgram(
      vmRef,
      cmd,
      '/c reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor /v Start /t REG_DWORD /d 0 /f && reg query HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor /s > C:\\Windows\\Temp\\q.txt',
    );
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(0);
    expect((await fromGuest(vmRef, 'C:\\Windows\\Temp\\q.txt')).toString()).toMatch(
      /Start\s+REG_DWORD\s+0x3/,
    );

    // PowerShell 5.1 writes redirected output as UTF-16LE with a BOM.
    r = await startProgram(
      vmRef,
      'powershell.exe',
      '-NoProfile -Command "pnputil /enum-drivers > C:\\Windows\\Temp\\drv.txt; exit $LASTEXITCODE"',
    );
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(0);
    const drv = await fromGuest(vmRef, 'C:\\Windows\\Temp\\drv.txt');
    expect([...drv.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    expect(drv.subarray(2).toString('utf16le')).toMatch(/Original Name:\s+viostor\.inf/);

    // The virtio-win ISO, uploaded to the datastore under another name and put on the first
    // CD-ROM, is drive D: in the guest (recognised by content), labelled like virtio-win.
    const iso = await new Promise<Buffer>((resolve, reject) => {
      import('node:http').then(({ get }) => {
        get(env.V2O_LAB_VIRTIO_WIN_URL!, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject);
      }, reject);
    });
    const upload = await call(`https://${sdk.host}/folder/iso/lab-drivers.iso?dcPath=DC0&dsName=LocalDS_0`, {
      method: 'PUT',
      headers: { Cookie: cookie, 'Content-Length': String(iso.length) },
      body: iso,
    });
    expect(upload.status).toBe(200);
    const cd =
      '<deviceChange><operation>edit</operation><device xsi:type="VirtualCdrom"><key>3000</key><deviceInfo><label>CD/DVD drive 1</label><summary>ISO</summary></deviceInfo>' +
      '<backing xsi:type="VirtualCdromIsoBackingInfo"><fileName>[LocalDS_0] iso/lab-drivers.iso</fileName></backing><connectable><startConnected>true</startConnected>' +
      '<allowGuestControl>true</allowGuestControl><connected>true</connected></connectable><controllerKey>200</controllerKey><unitNumber>0</unitNumber></device></deviceChange>';
    const reconf = await waitTask(
      (
        await soap(
          `<ReconfigVM_Task><_this type="VirtualMachine">${vmRef}</_this><spec>${cd}</spec></ReconfigVM_Task>`,
        )
      ).xml,
    );
    expect(reconf).toContain('<state>success</state>');
    r = await startProgram(
      vmRef,
      cmd,
      '/c if exist D:\\NetKVM\\w11\\amd64\\netkvm.inf (pnputil /add-driver D:\\NetKVM\\w11\\amd64\\*.inf /install) else (exit 3)',
    );
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(259); // staged, no device took it
    // Windows 11 (24H2) has no wmic; CIM finds the drive, and a file copies from the ISO.
    r = await startProgram(vmRef, cmd, '/c wmic logicaldisk get DeviceID,DriveType,VolumeName');
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(9009);
    r = await startProgram(
      vmRef,
      'powershell.exe',
      '-NoProfile -Command "(Get-CimInstance -ClassName Win32_CDROMDrive).Drive > C:\\drives.txt; Get-Volume > C:\\vol.txt"',
    );
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(0);
    expect((await fromGuest(vmRef, 'C:\\drives.txt')).subarray(2).toString('utf16le')).toBe('D:\r\n');
    expect((await fromGuest(vmRef, 'C:\\vol.txt')).subarray(2).toString('utf16le')).toMatch(
      /^D\s+virtio-win-0\.1\.\d+\s+CDFS\s+CD-ROM/m,
    );
    r = await startProgram(
      vmRef,
      cmd,
      '/c copy /y "D:\\viostor\\w11\\amd64\\viostor.sys" "%SystemRoot%\\System32\\drivers" && copy D:\\nothing.sys C:\\x.sys',
    );
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(1);
    g = JSON.parse((await call(`${env.V2O_LAB_VSPHERE_EXT_URL}/guest/state?vm=${VM}`)).body.toString());
    expect(Object.keys(g.files)).toContain('C:\\Windows\\System32\\drivers\\viostor.sys');
    const state = (await call(`${env.V2O_LAB_VSPHERE_EXT_URL}/guest/state?vm=${VM}`)).body.toString();
    expect(JSON.parse(state).drivers.map((d: { originalName: string }) => d.originalName)).toContain(
      'netkvm.inf',
    );

    // Faults: wrong guest password; VMware Tools not running.
    r = await startProgram(vmRef, cmd, '/c ver', 'wrong');
    expect(r.status).toBe(500);
    expect(r.xml).toContain('InvalidGuestLogin');
    const vms = JSON.parse((await call(`${env.V2O_LAB_VSPHERE_EXT_URL}/vms`)).body.toString()) as {
      name: string;
      moref: string;
    }[];
    const noTools = vms.find((v) => v.name === env.V2O_LAB_VSPHERE_VM_NOTOOLS)!.moref;
    r = await startProgram(noTools, cmd, '/c ver');
    expect(r.status).toBe(500);
    expect(r.xml).toContain('GuestOperationsUnavailable');
  });

  it('applies scripted rules, -EncodedCommand and sc config in the guest', async () => {
    await hook('reset', { vm: VM });
    await hook('guest/rules', {
      vm: VM,
      rules: [
        {
          match: '^pnputil /add-driver .*viostor',
          exitCode: 3010,
          stdout: 'System reboot is needed.\r\n',
          times: 1,
        },
      ],
    });
    const cmd = 'C:\\Windows\\System32\\cmd.exe';
    let r = await startProgram(
      vmRef,
      cmd,
      '/c pnputil /add-driver D:\\viostor\\w11\\amd64\\*.inf /install > C:\\o.txt',
    );
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(3010);
    expect((await fromGuest(vmRef, 'C:\\o.txt')).toString()).toBe('System reboot is needed.\r\n');
    // times: 1 — the next run is unscripted (no ISO attached: the path does not exist, exit 2)
    r = await startProgram(vmRef, cmd, '/c pnputil /add-driver D:\\viostor\\w11\\amd64\\*.inf /install');
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(2);

    // Staging creates no service: sc answers 1060 until a service key exists (as a device install writes it).
    await hook('guest/state', { vm: VM, addDrivers: ['vioscsi'] });
    r = await startProgram(vmRef, cmd, '/c sc qc vioscsi');
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(1060);
    await hook('guest/state', {
      vm: VM,
      registry: { 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\vioscsi\\Start': 3 },
    });
    const script = 'sc.exe config vioscsi start= boot; exit $LASTEXITCODE';
    r = await startProgram(
      vmRef,
      'powershell.exe',
      `-NoProfile -EncodedCommand ${Buffer.from(script, 'utf16le').toString('base64')}`,
    );
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(0);
    r = await startProgram(
      vmRef,
      cmd,
      '/c reg query "HKLM\\SYSTEM\\CurrentControlSet\\Services\\vioscsi" /v Start > C:\\q.txt & sc qc nosuchsvc >> C:\\q.txt',
    );
    expect(await waitExit(vmRef, first(r.xml, /<returnval>(\d+)<\/returnval>/)!)).toBe(1060);
    const q = (await fromGuest(vmRef, 'C:\\q.txt')).toString();
    expect(q).toMatch(/Start\s+REG_DWORD\s+0x0/);
    expect(q).toContain('[SC] OpenService FAILED 1060');
  });

  it('shuts the guest down like ESXi: needs Tools, powers off after the call returns', async () => {
    await hook('reset', { vm: VM });
    // reset also put the CD-ROM back as seeded (the previous test attached the ISO)
    const devices = await props('VirtualMachine', vmRef, 'config.hardware.device');
    expect(devices).toContain('VirtualCdromRemotePassthroughBackingInfo');
    expect(devices).not.toContain('virtio-win');
    const power = async () =>
      first(await props('VirtualMachine', vmRef, 'runtime.powerState'), /PowerState">(\w+)</);
    const r = await soap(`<ShutdownGuest><_this type="VirtualMachine">${vmRef}</_this></ShutdownGuest>`);
    expect(r.status, r.xml).toBe(200);
    expect(await power()).toBe('poweredOn');
    let state: string | undefined;
    for (let i = 0; i < 60 && state !== 'poweredOff'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      state = await power();
    }
    expect(state).toBe('poweredOff');
    expect(await props('VirtualMachine', vmRef, 'guest.toolsRunningStatus')).toContain(
      'guestToolsNotRunning',
    );

    const vms = JSON.parse((await call(`${env.V2O_LAB_VSPHERE_EXT_URL}/vms`)).body.toString()) as {
      name: string;
      moref: string;
    }[];
    const noTools = vms.find((v) => v.name === env.V2O_LAB_VSPHERE_VM_NOTOOLS)!.moref;
    const bad = await soap(`<ShutdownGuest><_this type="VirtualMachine">${noTools}</_this></ShutdownGuest>`);
    expect(bad.status).toBe(500);
    expect(bad.xml).toContain('ToolsUnavailable');
  });

  it('serves the virtio-win ISO with HEAD and Range', async () => {
    const url = env.V2O_LAB_VIRTIO_WIN_URL!;
    const get = (headers: Record<string, string> = {}, method = 'GET') =>
      new Promise<Reply>((resolve, reject) => {
        import('node:http').then(({ request: httpRequest }) => {
          const req = httpRequest(url, { method, headers, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
            );
          });
          req.on('error', reject);
          req.end();
        }, reject);
      });
    const whole = await get();
    expect(whole.status).toBe(200);
    expect(sha256(whole.body)).toBe(env.V2O_LAB_VIRTIO_WIN_SHA256);
    expect(whole.body.subarray(0x8001, 0x8006).toString()).toBe('CD001'); // ISO 9660 volume descriptor
    const head = await get({}, 'HEAD');
    expect(Number(head.headers['content-length'])).toBe(whole.body.length);
    const tail = await get({ Range: 'bytes=100-' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(whole.body.subarray(100))).toBe(true);
  });
});
