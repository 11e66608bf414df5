#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
// Builds the lab's VMDK files once (qemu-img), so every vcsim start only copies them.
//
//   node make-disks.mjs <inventory.json> <out-dir>
//
// For every disk in the inventory: a sparse raw image with deterministic pseudo-random data at
// the listed offsets, converted to the listed VMDK subformat (streamOptimized, monolithicSparse,
// monolithicFlat = descriptor + extent), plus the streamOptimized stream that ExportVm serves
// (what vCenter streams for any disk). <out-dir>/manifest.json records the sha256 of the raw
// content and of every file, so tests compare bytes without reading the VMDK format.
// Every VM's boot disk (its first) gets a guest state region (STATE_REGION below): sector 0 points
// at it and it is filled with incompressible bytes, so qemu-img allocates its grains in a sparse
// extent and writes them as zlib stored blocks in a streamOptimized one; the simulator then keeps
// the guest's state there (vcsim/simext/zz_v2o_diskstate.go) and the boot disk's raw content
// stays in raw/ for it (sparse), to keep the manifest's sha256 values true.
// Rebuilt only when the inventory's disks or this script change.
import { createCipheriv, createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
// The state region: 1 MiB, 2 MiB before the end of the boot disk (the last MiB holds data on some
// disks). Sector 0 holds a lab boot record: "V2OLBR01", the region's offset and length (u64 LE),
// and the 0x55AA signature at 510 that a BIOS looks for in a boot sector.
const STATE_REGION = { fromEnd: 2 * MiB, length: MiB };
const [inventoryPath, outDir] = process.argv.slice(2);
if (!inventoryPath || !outDir) {
  console.error('usage: make-disks.mjs <inventory.json> <out-dir>');
  process.exit(2);
}
const inventory = JSON.parse(readFileSync(inventoryPath, 'utf8'));
const self = readFileSync(fileURLToPath(import.meta.url));
const fingerprint = createHash('sha256')
  .update(self)
  .update(JSON.stringify(inventory.vms.map((vm) => [vm.name, vm.folder, vm.controller, vm.disks])))
  .digest('hex');

const manifestPath = join(outDir, 'manifest.json');
if (existsSync(manifestPath)) {
  const old = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (old.fingerprint === fingerprint) {
    console.error('[make-disks] disks up to date');
    process.exit(0);
  }
}

const sha256File = (p) =>
  new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(p)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });

// Deterministic bytes: AES-CTR keystream keyed by the disk name, so every machine builds the
// same disks and the recorded sha256 values are stable.
function pattern(seed, length) {
  const key = createHash('sha256').update(seed).digest();
  const c = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([c.update(Buffer.alloc(length)), c.final()]);
}

const qemuImg = (...args) => execFileSync('qemu-img', args, { stdio: ['ignore', 'ignore', 'inherit'] });

const tmp = join(outDir, '.build');
rmSync(tmp, { recursive: true, force: true });
mkdirSync(join(tmp, 'ds'), { recursive: true });
mkdirSync(join(tmp, 'export'), { recursive: true });
mkdirSync(join(tmp, 'raw'), { recursive: true });

const t0 = Date.now();
const vms = [];
for (const vm of inventory.vms) {
  const disks = [];
  const dsDir = join(tmp, 'ds', vm.folder);
  mkdirSync(dsDir, { recursive: true });
  const adapter = vm.controller === 'sata' ? 'ide' : 'lsilogic';
  for (const [i, d] of vm.disks.entries()) {
    const capacity = d.sizeMiB * MiB;
    const raw = join(tmp, 'raw', `${vm.name}-${i}.raw`.replace(/[^A-Za-z0-9._-]/g, '_'));
    const fd = openSync(raw, 'w+');
    ftruncateSync(fd, capacity);
    const dataRanges = [];
    for (const [offMiB, lenMiB] of d.data) {
      const buf = pattern(`${vm.name}/${d.file}/${offMiB}`, lenMiB * MiB);
      writeSync(fd, buf, 0, buf.length, offMiB * MiB);
      dataRanges.push({
        offset: offMiB * MiB,
        length: buf.length,
        sha256: createHash('sha256').update(buf).digest('hex'),
      });
    }
    let stateRegion;
    if (i === 0) {
      const offset = capacity - STATE_REGION.fromEnd;
      const clash = d.data.find(([o, l]) => o * MiB < offset + STATE_REGION.length && (o + l) * MiB > offset);
      if (clash)
        throw new Error(
          `${vm.name}: data at ${clash[0]} MiB overlaps the guest state region at ${offset / MiB} MiB; move the data in inventory.json`,
        );
      const filler = pattern(`${vm.name}/${d.file}/state-region`, STATE_REGION.length);
      writeSync(fd, filler, 0, filler.length, offset);
      const lbr = Buffer.alloc(24);
      lbr.write('V2OLBR01', 0, 'latin1');
      lbr.writeBigUInt64LE(BigInt(offset), 8);
      lbr.writeBigUInt64LE(BigInt(STATE_REGION.length), 16);
      writeSync(fd, lbr, 0, lbr.length, 0);
      writeSync(fd, Buffer.from([0x55, 0xaa]), 0, 2, 510);
      stateRegion = { offset, length: STATE_REGION.length, raw: `raw/${basename(raw)}` };
      // the boot record may sit in a data range: record what the disk holds
      for (const r of dataRanges) {
        const b = Buffer.alloc(r.length);
        readSync(fd, b, 0, r.length, r.offset);
        r.sha256 = createHash('sha256').update(b).digest('hex');
      }
    }
    closeSync(fd);

    const target = join(dsDir, d.file);
    qemuImg(
      'convert',
      '-q',
      '-f',
      'raw',
      '-O',
      'vmdk',
      '-o',
      `subformat=${d.format},adapter_type=${adapter}`,
      raw,
      target,
    );
    const files = [d.file];
    const flat = d.file.replace(/\.vmdk$/, '-flat.vmdk');
    if (d.format === 'monolithicFlat') {
      files.push(flat);
    } else {
      // vcsim 0.24 refuses a disk backing whose "-flat.vmdk" neighbour is missing
      // (FileNotFound), even for formats that have no extent file: an empty placeholder.
      writeFileSync(join(dsDir, flat), '');
    }

    // What ExportVm streams: vCenter always sends streamOptimized, whatever the source format.
    let exportRel;
    if (d.format === 'streamOptimized') {
      exportRel = join('ds', vm.folder, d.file);
    } else {
      exportRel = join('export', `${vm.name}-${i}.vmdk`.replace(/[^A-Za-z0-9._-]/g, '_'));
      qemuImg(
        'convert',
        '-q',
        '-f',
        'raw',
        '-O',
        'vmdk',
        '-o',
        `subformat=streamOptimized,adapter_type=${adapter}`,
        raw,
        join(tmp, exportRel),
      );
    }
    const rawSha256 = await sha256File(raw);
    if (!stateRegion) rmSync(raw);
    const fileInfo = [];
    for (const f of files) {
      const p = join(dsDir, f);
      fileInfo.push({
        name: f,
        datastorePath: `[${inventory.datastore}] ${vm.folder}/${f}`,
        size: statSync(p).size,
        sha256: await sha256File(p),
      });
    }
    const exportAbs = join(tmp, exportRel);
    disks.push({
      label: `Hard disk ${i + 1}`,
      unit: i,
      fileName: d.file,
      datastorePath: `[${inventory.datastore}] ${vm.folder}/${d.file}`,
      format: d.format,
      capacityBytes: capacity,
      rawSha256,
      dataRanges,
      ...(stateRegion ? { stateRegion } : {}),
      files: fileInfo,
      export: {
        file: exportRel.replace(/\\/g, '/'),
        size: statSync(exportAbs).size,
        sha256: await sha256File(exportAbs),
      },
    });
  }
  vms.push({ name: vm.name, folder: vm.folder, disks });
}
writeFileSync(
  join(tmp, 'manifest.json'),
  `${JSON.stringify({ fingerprint, datastore: inventory.datastore, datacenter: inventory.datacenter, vms }, null, 2)}\n`,
);

// Swap in atomically so a half-built cache is never used.
for (const name of ['ds', 'export', 'raw', 'manifest.json'])
  rmSync(join(outDir, name), { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
for (const name of ['ds', 'export', 'raw', 'manifest.json']) renameSync(join(tmp, name), join(outDir, name));
rmSync(tmp, { recursive: true, force: true });
console.error(
  `[make-disks] built ${vms.reduce((n, v) => n + v.disks.length, 0)} disks in ${Date.now() - t0} ms`,
);
