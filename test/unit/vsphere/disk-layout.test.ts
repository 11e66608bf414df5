// The descriptor decides whether a disk is one flat extent; and the datastore Range reader.
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyDiskLayout } from '../../../src/migration/source-vsphere.js';
import { SourceHttpError } from '../../../src/transfer/errors.js';
import { datastoreRangeReader } from '../../../src/transfer/sources/datastore-range-reader.js';
import { isHttpStatus } from '../../../src/vsphere/errors.js';
import { connect } from '../../../src/vsphere/objects/client.js';
import { config, connectScope } from './fixtures.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const descriptor = (createType: string, extent: string, parentCID = 'ffffffff') =>
  Buffer.from(
    `# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=${parentCID}\ncreateType="${createType}"\n\n# Extent description\n${extent}\n\nddb.adapterType = "lsilogic"\n`,
  );

describe('classifyDiskLayout', () => {
  it('takes a monolithicFlat or vmfs descriptor with one FLAT/VMFS extent as a flat extent beside it', () => {
    expect(
      classifyDiskLayout(
        descriptor('monolithicFlat', 'RW 524288 FLAT "win-flat.vmdk" 0'),
        '[ds 1] win/win.vmdk',
      ),
    ).toEqual({ createType: 'monolithicFlat', flatExtent: '[ds 1] win/win-flat.vmdk' });
    expect(
      classifyDiskLayout(descriptor('vmfs', 'RW 524288 VMFS "win-flat.vmdk"'), '[ds1] win.vmdk'),
    ).toEqual({
      createType: 'vmfs',
      flatExtent: '[ds1] win-flat.vmdk',
    });
  });

  it('refuses sparse, delta and split layouts, whatever files lie beside them', () => {
    const so = classifyDiskLayout(
      descriptor('streamOptimized', 'RW 524288 SPARSE "win.vmdk"'),
      '[ds1] win/win.vmdk',
    );
    expect(so.flatExtent).toBeUndefined();
    expect(so.createType).toBe('streamOptimized');
    expect(so.notFlatReason).toMatch(/streamOptimized/);
    const se = classifyDiskLayout(
      descriptor('seSparse', 'RW 524288 SESPARSE "win-sesparse.vmdk"'),
      '[ds1] w.vmdk',
    );
    expect(se).toMatchObject({ createType: 'seSparse' });
    expect(se.flatExtent).toBeUndefined();
    const delta = classifyDiskLayout(
      descriptor('vmfsSparse', 'RW 524288 VMFSSPARSE "win-000001-delta.vmdk"', '1a2b3c4d'),
      '[ds1] win/win-000001.vmdk',
    );
    expect(delta.notFlatReason).toMatch(/delta/);
    const split = classifyDiskLayout(
      descriptor('twoGbMaxExtentFlat', 'RW 4192256 FLAT "w-f001.vmdk" 0\nRW 4192256 FLAT "w-f002.vmdk" 0'),
      '[ds1] w.vmdk',
    );
    expect(split.flatExtent).toBeUndefined();
    // A binary sparse VMDK (KDMV header) is its own data file, never flat.
    const kdmv = Buffer.alloc(1024);
    kdmv.write('KDMV', 0, 'latin1');
    expect(classifyDiskLayout(kdmv, '[ds1] w.vmdk').flatExtent).toBeUndefined();
  });
});

describe('datastoreRangeReader', () => {
  const PATH = '/folder/win/win-flat.vmdk?dcPath=DC0&dsName=ds1';

  it('asks for exactly the range with the session cookie and checks the answer', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .get(PATH)
      .matchHeader('cookie', 'vmware_soap_session="abc"')
      .matchHeader('range', 'bytes=4096-8191')
      .reply(206, Buffer.alloc(4096, 7), {
        'content-range': 'bytes 4096-8191/1048576',
        'content-length': '4096',
      });
    const r = datastoreRangeReader(client, 'DC0', '[ds1] win/win-flat.vmdk', 1024 * 1024);
    const chunks: Buffer[] = [];
    for await (const c of await r.readRange(4096, 4096, new AbortController().signal))
      chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(Buffer.alloc(4096, 7))).toBe(true);
    expect(scope.isDone()).toBe(true);
  });

  it('refuses a 200 (the whole file) and a Content-Range from elsewhere', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .get(PATH)
      .reply(200, Buffer.alloc(16))
      .get(PATH)
      .reply(206, Buffer.alloc(4096), { 'content-range': 'bytes 0-4095/1048576', 'content-length': '4096' });
    const r = datastoreRangeReader(client, 'DC0', '[ds1] win/win-flat.vmdk', 1024 * 1024);
    const e1 = await r.readRange(4096, 4096, new AbortController().signal).catch((e: unknown) => e);
    expect(isHttpStatus(e1, 200)).toBe(true);
    const e2 = await r.readRange(4096, 4096, new AbortController().signal).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(SourceHttpError);
    expect(scope.isDone()).toBe(true);
  });

  it('fails a short read', async () => {
    const scope = connectScope();
    const client = await connect(config);
    // The server promises 4096 bytes and sends 100 (no Content-Length check can catch it up front).
    scope.get(PATH).reply(206, () => Buffer.alloc(100), { 'content-range': 'bytes 4096-8191/1048576' });
    const r = datastoreRangeReader(client, 'DC0', '[ds1] win/win-flat.vmdk', 1024 * 1024);
    const s = await r.readRange(4096, 4096, new AbortController().signal);
    const err = await (async () => {
      for await (const _ of s) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceHttpError);
    expect((err as Error).message).toMatch(/short read, 100 of 4096/);
    expect(scope.isDone()).toBe(true);
  });
});
