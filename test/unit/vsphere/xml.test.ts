import { describe, expect, it } from 'vitest';
import {
  arr,
  child,
  el,
  envelope,
  moref,
  parseXml,
  toValue,
  type XmlObject,
} from '../../../src/vsphere/soap/xml.js';

describe('vim25 XML', () => {
  it('resolves xsi:type by namespace URI, whatever the prefix (vcsim writes XMLSchema-instance:type)', () => {
    const doc = parseXml(
      '<r><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="ManagedObjectReference" type="HostSystem">host-1</val>' +
        '<other xmlns:foo="urn:unrelated" foo:type="NotXsi">x</other></r>',
    );
    const val = child(doc, 'val')!;
    expect(val.xsiType).toBe('ManagedObjectReference');
    expect(val.attrs.type).toBe('HostSystem');
    expect(toValue(val)).toEqual({ type: 'HostSystem', value: 'host-1' });
    const other = child(doc, 'other')!;
    expect(other.xsiType).toBeUndefined();
    expect(other.attrs['foo:type']).toBe('NotXsi');
  });

  it('decodes named and numeric entities (Go writes &#34; and &#xA;)', () => {
    const doc = parseXml('<r><name>a&#34;b&#39;c&amp;d&lt;e&#xA;f ü</name></r>');
    expect(child(doc, 'name')!.text).toBe('a"b\'c&d<e\nf ü');
  });

  it('turns ArrayOf wrappers and repeated fields into arrays', () => {
    const doc = parseXml(
      '<val xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="ArrayOfVirtualDevice"><VirtualDevice xsi:type="VirtualDisk"><key>2000</key></VirtualDevice><VirtualDevice xsi:type="VirtualCdrom"><key>3000</key></VirtualDevice></val>',
    );
    const v = toValue(doc) as XmlObject[];
    expect(v.map((d) => d._type)).toEqual(['VirtualDisk', 'VirtualCdrom']);
    const one = toValue(parseXml('<o><device>1</device></o>')) as XmlObject;
    expect(arr(one.device)).toEqual(['1']);
    const two = toValue(parseXml('<o><device>1</device><device>2</device></o>')) as XmlObject;
    expect(arr(two.device)).toEqual(['1', '2']);
  });

  it('escapes every value in request builders and puts the vim25 namespace on the method', () => {
    expect(el('password', `a<b>&"c'`)).toBe('<password>a&lt;b&gt;&amp;&quot;c&apos;</password>');
    expect(el('x', undefined)).toBe('');
    expect(moref('_this', { type: 'HttpNfcLease', value: 'session[1]2' })).toBe(
      '<_this type="HttpNfcLease">session[1]2</_this>',
    );
    const env = envelope('<Login><userName>u</userName></Login>');
    expect(env).toContain(
      '<soapenv:Body><Login xmlns="urn:vim25"><userName>u</userName></Login></soapenv:Body>',
    );
    expect(parseXml(env).name).toBe('Envelope');
  });
});

describe('URLs with host *', () => {
  it('takes the vCenter host, keeping a port the URL names', async () => {
    const { resolveStarHost } = await import('../../../src/vsphere/objects/http.js');
    expect(resolveStarHost('https://*/nfc/a b/disk-0.vmdk', 'vc.example.com:8443').href).toBe(
      'https://vc.example.com:8443/nfc/a%20b/disk-0.vmdk',
    );
    expect(resolveStarHost('https://*:443/guestFile?id=1&token=x', 'vc.example.com:8443').href).toBe(
      'https://vc.example.com/guestFile?id=1&token=x',
    );
    expect(resolveStarHost('https://esx1.example.com/nfc/x', 'vc.example.com').host).toBe('esx1.example.com');
  });
});
