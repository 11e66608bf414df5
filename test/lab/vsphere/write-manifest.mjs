#!/usr/bin/env node
// Writes $LAB_DIR/vsphere-disks.json: the disk manifest from make-disks.mjs joined with where this
// start of the simulator put the files (datastore directory, VM morefs), so tests can compare bytes.
//   node write-manifest.mjs <disks/manifest.json> <run/seeded.json> <out.json>
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [manifestPath, seededPath, outPath] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const seeded = JSON.parse(readFileSync(seededPath, 'utf8'));
const disksDir = join(manifestPath, '..');
const morefs = new Map(seeded.vms.map((v) => [v.name, v.moref]));
const out = {
  datacenter: manifest.datacenter,
  datastore: manifest.datastore,
  datastoreDir: seeded.datastoreDir,
  vms: manifest.vms.map((vm) => ({
    name: vm.name,
    moref: morefs.get(vm.name),
    disks: vm.disks.map((d) => ({
      ...d,
      localPath: join(seeded.datastoreDir, vm.folder, d.fileName),
      files: d.files.map((f) => ({ ...f, localPath: join(seeded.datastoreDir, vm.folder, f.name) })),
      export: {
        ...d.export,
        localPath: d.export.file.startsWith('ds/')
          ? join(seeded.datastoreDir, d.export.file.slice(3))
          : join(disksDir, d.export.file),
      },
    })),
  })),
};
writeFileSync(`${outPath}.tmp`, `${JSON.stringify(out, null, 2)}\n`);
renameSync(`${outPath}.tmp`, outPath);
