import { Writable } from 'node:stream';
import nock from 'nock';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect } from '../../../src/vsphere/objects/client.js';
import { exportVm } from '../../../src/vsphere/objects/nfc-lease.js';
import { config, connectScope, isCall, soapFault, soapResponse, VC } from './fixtures.js';

const VM = { type: 'VirtualMachine', value: 'vm-42' };
const LEASE = 'session[52b5]lease-1';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

function leaseReady(scope: nock.Scope): nock.Scope {
  return scope
    .post('/sdk', isCall('ExportVm'))
    .reply(200, soapResponse('ExportVm', `<returnval type="HttpNfcLease">${LEASE}</returnval>`))
    .post('/sdk', isCall('CreatePropertyCollector'))
    .reply(
      200,
      soapResponse('CreatePropertyCollector', '<returnval type="PropertyCollector">pc-1</returnval>'),
    )
    .post(
      '/sdk',
      (b: string) => isCall('CreateFilter')(b) && b.includes(`<obj type="HttpNfcLease">${LEASE}</obj>`),
    )
    .reply(200, soapResponse('CreateFilter', '<returnval type="PropertyFilter">f-1</returnval>'))
    .post('/sdk', isCall('WaitForUpdatesEx'))
    .reply(
      200,
      soapResponse(
        'WaitForUpdatesEx',
        `<returnval><version>1</version><filterSet><filter type="PropertyFilter">f-1</filter><objectSet><kind>enter</kind><obj type="HttpNfcLease">${LEASE}</obj><changeSet><name>state</name><op>assign</op><val xsi:type="HttpNfcLeaseState">ready</val></changeSet></objectSet></filterSet></returnval>`,
      ),
    )
    .post('/sdk', isCall('DestroyPropertyCollector'))
    .reply(200, soapResponse('DestroyPropertyCollector', ''))
    .post('/sdk', (b: string) => isCall('RetrievePropertiesEx')(b) && b.includes('<pathSet>info</pathSet>'))
    .reply(
      200,
      soapResponse(
        'RetrievePropertiesEx',
        `<returnval><objects><obj type="HttpNfcLease">${LEASE}</obj><propSet><name>info</name><val xsi:type="HttpNfcLeaseInfo"><lease type="HttpNfcLease">${LEASE}</lease><entity type="VirtualMachine">vm-42</entity><deviceUrl><key>/vm-42/VirtualLsiLogicSASController0:0</key><importKey>/vm-42/VirtualLsiLogicSASController0:0</importKey><url>https://*/nfc/52b5/disk-0.vmdk</url><sslThumbprint></sslThumbprint><disk>true</disk><targetId>disk-0.vmdk</targetId><fileSize>1000</fileSize></deviceUrl><totalDiskCapacityInKB>41943040</totalDiskCapacityInKB><leaseTimeout>300</leaseTimeout></val></propSet></objects></returnval>`,
      ),
    );
}

describe('export lease', () => {
  it('waits for ready, replaces the * host, opens with Range, keeps alive, completes', async () => {
    const scope = connectScope();
    const client = await connect(config);
    leaseReady(scope);
    const lease = await exportVm(client, VM);
    expect(lease.deviceUrls).toHaveLength(1);
    const d = lease.deviceUrls[0]!;
    expect(d.url.href).toBe(`${VC}/nfc/52b5/disk-0.vmdk`);
    expect(d).toMatchObject({ disk: true, fileSize: 1000, targetId: 'disk-0.vmdk' });
    expect(lease.leaseTimeout).toBe(300);

    scope
      .get('/nfc/52b5/disk-0.vmdk')
      .matchHeader('range', 'bytes=400-')
      .matchHeader('cookie', 'vmware_soap_session="abc"')
      .reply(206, Buffer.alloc(600, 1), { 'Content-Range': 'bytes 400-999/1000', 'Content-Length': '600' });
    const s = await lease.open(d, { offset: 400 });
    let n = 0;
    for await (const c of s) n += (c as Buffer).length;
    expect(n).toBe(600);
    expect(s.contentLength).toBe(600);

    let sent = 0;
    scope
      .post('/sdk', (b: string) => isCall('HttpNfcLeaseProgress')(b) && b.includes('<percent>60</percent>'))
      .times(2)
      .reply(200, () => {
        sent++;
        return soapResponse('HttpNfcLeaseProgress', '');
      });
    const keepAlive = lease.startKeepAlive(() => 60.7, { intervalMs: 30 });
    await vi.waitFor(() => expect(sent).toBe(2), { timeout: 5000 });
    keepAlive.stop();

    scope.post('/sdk', isCall('HttpNfcLeaseComplete')).reply(200, soapResponse('HttpNfcLeaseComplete', ''));
    await lease.complete();
    await lease.complete(); // idempotent: no second call
    expect(scope.isDone()).toBe(true);
  });

  it('aborts with the reason as a SystemError fault', async () => {
    const scope = connectScope();
    const client = await connect(config);
    leaseReady(scope);
    const lease = await exportVm(client, VM);
    scope
      .post(
        '/sdk',
        (b: string) =>
          isCall('HttpNfcLeaseAbort')(b) &&
          b.includes(
            '<fault><fault xsi:type="SystemError"><reason>disk 1 failed: &lt;boom&gt;</reason></fault><localizedMessage>disk 1 failed: &lt;boom&gt;</localizedMessage></fault>',
          ),
      )
      .reply(200, soapResponse('HttpNfcLeaseAbort', ''));
    await lease.abort(new Error('disk 1 failed: <boom>'));
    expect(scope.isDone()).toBe(true);
  });

  it('keep-alive: one beat per interval, a failed beat is logged and the next still goes, stop() is idempotent, complete() stops it', async () => {
    const warnings: string[] = [];
    const log = pino(
      new Writable({
        write(line, _e, cb) {
          const o = JSON.parse(String(line));
          if (o.level === 40) warnings.push(`${o.msg}: ${o.err}`);
          cb();
        },
      }),
    );
    const scope = connectScope();
    const client = await connect(config, { log });
    leaseReady(scope);
    const lease = await exportVm(client, VM);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      let percent = 10;
      const beats: string[] = [];
      scope
        .post('/sdk', isCall('HttpNfcLeaseProgress'))
        .times(2)
        .reply((_u, body) => {
          beats.push(/<percent>(\d+)<\/percent>/.exec(String(body))![1]!);
          return beats.length === 1
            ? [500, soapFault('SystemError', 'lease busy')]
            : [200, soapResponse('HttpNfcLeaseProgress', '')];
        });
      const keepAlive = lease.startKeepAlive(() => percent, { intervalMs: 1_000 });
      vi.advanceTimersByTime(999);
      await new Promise((r) => setTimeout(r, 50));
      expect(beats).toEqual([]); // nothing before the first interval
      vi.advanceTimersByTime(1);
      await vi.waitFor(() =>
        expect(warnings).toEqual([expect.stringMatching(/^lease keep-alive failed: .*lease busy/)]),
      );
      percent = 20;
      vi.advanceTimersByTime(1_000);
      await vi.waitFor(() => expect(beats).toEqual(['10', '20']));
      keepAlive.stop();
      keepAlive.stop();
      vi.advanceTimersByTime(10_000); // no beat after stop: nock would refuse it and a warning follow
      await new Promise((r) => setTimeout(r, 50));
      expect(warnings).toHaveLength(1);
      expect(scope.isDone()).toBe(true);

      lease.startKeepAlive(() => 30, { intervalMs: 1_000 });
      scope.post('/sdk', isCall('HttpNfcLeaseComplete')).reply(200, soapResponse('HttpNfcLeaseComplete', ''));
      await lease.complete();
      vi.advanceTimersByTime(10_000); // complete() stopped the keep-alive
      await new Promise((r) => setTimeout(r, 50));
      expect(scope.isDone()).toBe(true);
      expect(warnings).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
