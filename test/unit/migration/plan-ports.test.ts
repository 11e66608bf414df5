// plan-ports with the guest's captured identity (issue 13): fixedIps keep / none / a list,
// addresses outside the network, addresses in use, two NICs on one network, MTU.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/migration/build-plan.js';
import { ipInCidr, planPorts } from '../../../src/migration/plan/plan-ports.js';
import { config, inventory, staticInventory } from './fixtures.js';

const codes = (f: { code: string }[]) => f.map((x) => x.code);
const vmOf = (inv = staticInventory()) => inv.vm!;

describe('planPorts with guest facts', () => {
  it('keeps the captured addresses that lie in the mapped network, matched by MAC', () => {
    const inv = staticInventory();
    const r = planPorts(vmOf(inv), config(), inv);
    expect(r.findings).toEqual([]);
    expect(r.ports[0]).toMatchObject({
      networkId: 'net-1',
      macAddress: '00:50:56:a1:30:01',
      guestAdapter: 'Prod LAN',
      mtu: 1500,
      fixedIps: [
        { subnetId: 'sub-1', ipAddress: '192.0.2.41', prefixLength: 24 },
        { subnetId: 'sub-1', ipAddress: '192.0.2.42', prefixLength: 24 },
      ],
    });
    expect(r.ports[1]).toMatchObject({
      networkId: 'net-2',
      guestAdapter: 'Backup',
      fixedIps: [{ subnetId: 'sub-2', ipAddress: '198.51.100.41', prefixLength: 24 }],
    });
    expect(r.ports[0]!.allowedAddressPairs).toBeUndefined();
  });

  it('matches the adapter by MAC whatever the case or separator vSphere used', () => {
    const inv = staticInventory();
    inv.vm!.nics[0]!.macAddress = '00-50-56-A1-30-01';
    expect(planPorts(vmOf(inv), config(), inv).ports[0]!.guestAdapter).toBe('Prod LAN');
  });

  it('asks for nothing without facts (DHCP as before) and with fixedIps: none', () => {
    const inv = staticInventory();
    inv.guest = undefined;
    const r = planPorts(vmOf(inv), config(), inv);
    expect(r.findings).toEqual([]);
    expect(r.ports.map((p) => p.fixedIps)).toEqual([undefined, undefined]);
    const none = config(
      '    networks:\n      - { portGroup: VM Network, network: lab-net, fixedIps: none }\n      - { portGroup: DB Network, network: lab-db-net, fixedIps: none }\n',
    );
    const n = planPorts(vmOf(), none, staticInventory());
    expect(n.ports.map((p) => p.fixedIps)).toEqual([undefined, undefined]);
    // The adapter is still matched (the first-boot task renames it and sets DNS etc.).
    expect(n.ports[0]!.guestAdapter).toBe('Prod LAN');
  });

  it('keeps nothing of a DHCP adapter: its lease is not configuration', () => {
    const inv = staticInventory();
    inv.guest!.adapters[0]!.dhcp = true;
    const r = planPorts(vmOf(inv), config(), inv);
    expect(r.ports[0]!.fixedIps).toBeUndefined();
    expect(r.findings).toEqual([]);
  });

  it('replaces captured addresses position by position with an explicit list, keeping their prefix', () => {
    const inv = staticInventory();
    inv.guest!.adapters[0]!.ipv4[0]!.prefixLength = 25;
    const cfg = config(
      '    networks:\n      - { portGroup: VM Network, network: lab-net, fixedIps: [192.0.2.61, 192.0.2.62, 192.0.2.63] }\n      - { portGroup: DB Network, network: lab-db-net }\n',
    );
    const r = planPorts(vmOf(inv), cfg, inv);
    expect(r.ports[0]!.fixedIps).toEqual([
      { subnetId: 'sub-1', ipAddress: '192.0.2.61', prefixLength: 25 },
      { subnetId: 'sub-1', ipAddress: '192.0.2.62', prefixLength: 24 },
      // No captured address at position 2: the subnet's prefix.
      { subnetId: 'sub-1', ipAddress: '192.0.2.63', prefixLength: 24 },
    ]);
    const bad = config(
      '    networks:\n      - { portGroup: VM Network, network: lab-net, fixedIps: [10.99.0.5] }\n      - { portGroup: DB Network, network: lab-db-net }\n',
    );
    expect(codes(planPorts(vmOf(), bad, staticInventory()).findings)).toEqual(['fixed-ip-outside']);
  });

  it('warns about an address outside every subnet, naming it and both fixes', () => {
    const inv = staticInventory();
    inv.guest!.adapters[0]!.ipv4.push({ address: '172.16.5.9', prefixLength: 16 });
    const r = planPorts(vmOf(inv), config(), inv);
    expect(codes(r.findings)).toEqual(['address-outside-network']);
    expect(r.findings[0]!.severity).toBe('warning');
    expect(r.findings[0]!.message).toContain('172.16.5.9/16');
    expect(r.findings[0]!.fix).toMatch(/add a subnet.*allowed-address-pairs/);
    expect(r.ports[0]!.fixedIps).toHaveLength(2);
    expect(r.ports[0]!.allowedAddressPairs).toBeUndefined();
  });

  it('puts outside addresses into allowed_address_pairs when asked, with a warning that Neutron does not route them', () => {
    const inv = staticInventory();
    inv.guest!.adapters[0]!.ipv4.push({ address: '172.16.5.9', prefixLength: 16 });
    const cfg = config(
      '    networks:\n      - { portGroup: VM Network, network: lab-net, outsideAddresses: allowed-address-pairs }\n      - { portGroup: DB Network, network: lab-db-net }\n',
    );
    const r = planPorts(vmOf(inv), cfg, inv);
    expect(r.ports[0]!.allowedAddressPairs).toEqual([{ ipAddress: '172.16.5.9' }]);
    expect(codes(r.findings)).toEqual(['address-allowed-pair']);
    expect(r.findings[0]!.message).toMatch(/neither assigns nor routes/);
  });

  it('blocks an address another Neutron port holds, naming that port', () => {
    const inv = staticInventory();
    inv.addressesInUse = { '192.0.2.42': 'port-77' };
    const r = planPorts(vmOf(inv), config(), inv);
    expect(codes(r.findings)).toEqual(['address-in-use']);
    expect(r.findings[0]!.severity).toBe('blocker');
    expect(r.findings[0]!.message).toContain('port-77');
    expect(r.findings[0]!.fix).toContain('openstack port delete port-77');
  });

  it('says when two NICs go to one network (allowed)', () => {
    const inv = staticInventory();
    inv.vm!.nics[1]!.network = 'VM Network';
    inv.guest!.adapters[1]!.ipv4 = [{ address: '192.0.2.43', prefixLength: 24 }];
    const r = planPorts(vmOf(inv), config(), inv);
    expect(codes(r.findings)).toEqual(['nics-share-network']);
    expect(r.findings[0]!.severity).toBe('warning');
    expect(r.ports).toHaveLength(2);
    expect(r.ports[1]!.fixedIps?.[0]?.ipAddress).toBe('192.0.2.43');
  });

  it('warns when the guest MTU is above the network MTU and plans the network MTU', () => {
    const inv = staticInventory();
    inv.networks[0]!.mtu = 1450;
    const r = planPorts(vmOf(inv), config(), inv);
    expect(codes(r.findings)).toEqual(['mtu-above-network']);
    expect(r.findings[0]!.message).toMatch(/MTU 1500.*1450/);
    expect(r.ports[0]!.mtu).toBe(1450);
  });

  it('keeps manual IPv6 addresses that lie in an IPv6 subnet', () => {
    const inv = staticInventory();
    inv.networks[0]!.subnets.push({ id: 'sub-6', name: 'v6', cidr: '2001:db8:1::/64' });
    inv.guest!.adapters[0]!.ipv6 = [{ address: '2001:db8:1::41', prefixLength: 64 }];
    const r = planPorts(vmOf(inv), config(), inv);
    expect(r.ports[0]!.fixedIps?.at(-1)).toEqual({
      subnetId: 'sub-6',
      ipAddress: '2001:db8:1::41',
      prefixLength: 64,
    });
  });

  it('warns about a vSphere NIC the guest has no adapter for', () => {
    const inv = staticInventory();
    inv.guest!.adapters.pop();
    const r = planPorts(vmOf(inv), config(), inv);
    expect(codes(r.findings)).toEqual(['nic-not-in-guest']);
    expect(r.ports[1]!.guestAdapter).toBeUndefined();
  });

  it('buildPlan carries the facts into the plan', () => {
    const plan = buildPlan(staticInventory(), config());
    expect(plan.guest?.hostname).toBe('WIN2022-STATIC01');
    expect(buildPlan(inventory(staticInventory().vm), config()).guest).toBeUndefined();
  });
});

describe('ipInCidr', () => {
  it('matches IPv6 prefixes for real', () => {
    expect(ipInCidr('2001:db8:1::41', '2001:db8:1::/64')).toBe(true);
    expect(ipInCidr('2001:db8:2::41', '2001:db8:1::/64')).toBe(false);
    expect(ipInCidr('fe80::1', '::/0')).toBe(true);
    expect(ipInCidr('192.0.2.1', '2001:db8::/32')).toBe(false);
  });
});
