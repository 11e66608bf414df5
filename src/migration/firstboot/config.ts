// firstboot.json version 2 from the stored plan: what the first-boot task replays on OpenStack
// (contract §D). The adapters get the planned ports' addresses (the captured ones unless the plan
// listed others); ghosts go by the mechanism the release has; data disks come online with their
// letters. Pure: install-firstboot writes it, `v2o guest-script` embeds it, tests read it.
import type { GuestAdapter, GuestAddress } from '../guest/facts.js';
import type { StoredPlan } from '../params.js';
import type { PlannedPort } from '../plan/types.js';
import type { DiskBus } from '../plan-file.js';
import type { WindowsVersion } from '../windows-version.js';
import type { AdapterReplay, FirstbootConfigV2, GhostRemoval } from './actions.js';
import { GUEST_AGENT_MSI_PATH } from './script.js';

/**
 * The VMware NICs that become ghosts on OpenStack: vmxnet3, e1000e (Intel 82574L), e1000 (Intel
 * PRO/1000 MT) and the old vlance/flexible. Windows adds " #2" … to a second one: the task
 * matches by prefix; the captured descriptions are listed as they are too.
 */
export const VMWARE_NIC_DESCRIPTIONS = [
  'vmxnet3 Ethernet Adapter',
  'Intel(R) 82574L Gigabit Network Connection',
  'Intel(R) PRO/1000 MT Network Connection',
  'VMware PCI Ethernet Adapter',
];

/**
 * `pnputil /remove-device` exists from Windows 10 version 2004 (build 19041) on (Microsoft "PnPUtil
 * Command Syntax"): Server 2022 (20348), 2025 and Windows 11 have it. Server 2016/2019 (14393,
 * 17763) and 2012/2012 R2 do not, and a Windows 10 folder says nothing about its build: SetupAPI's
 * DIF_REMOVE, which every release has.
 */
export function ghostRemovalFor(windows: Pick<WindowsVersion, 'folder'> | undefined): GhostRemoval {
  return windows && ['2k22', '2k25', 'w11'].includes(windows.folder) ? 'pnputil' : 'setupapi';
}

const isV6 = (ip: string) => ip.includes(':');

/** The captured prefix of an address, else the one the plan gave it, else a host route. */
function prefixFor(ip: string, adapter: GuestAdapter, port: PlannedPort): number {
  const captured = [...adapter.ipv4, ...adapter.ipv6].find((a) => a.address === ip);
  return (
    captured?.prefixLength ??
    port.fixedIps?.find((f) => f.ipAddress === ip)?.prefixLength ??
    (isV6(ip) ? 128 : 32)
  );
}

/** One adapter's replay: the port's addresses on the captured name, gateways, routes and DNS. */
function replayOf(port: PlannedPort, order: number, adapter: GuestAdapter): AdapterReplay {
  const addresses = [
    ...(port.fixedIps ?? []).map((f) => f.ipAddress),
    ...(port.allowedAddressPairs ?? []).map((a) => a.ipAddress),
  ];
  // A static guest whose port gets no address (fixedIps: none) must take Neutron's by DHCP:
  // port security drops any other.
  const dhcp = adapter.dhcp || addresses.length === 0;
  const withPrefix = (ip: string): GuestAddress => ({
    address: ip,
    prefixLength: prefixFor(ip, adapter, port),
  });
  return {
    match: { ...(port.macAddress ? { mac: port.macAddress } : {}), order },
    name: adapter.name,
    dhcp,
    ipv4: dhcp ? [] : addresses.filter((ip) => !isV6(ip)).map(withPrefix),
    ipv6: dhcp ? [] : addresses.filter(isV6).map(withPrefix),
    gateways: dhcp ? [] : adapter.gateways,
    routes: dhcp ? [] : adapter.routes,
    // Servers a DHCP adapter had came from DHCP: Neutron's DHCP gives the new ones.
    dnsServers: adapter.dhcp ? [] : adapter.dnsServers,
    ...(adapter.dnsSuffix ? { dnsSuffix: adapter.dnsSuffix } : {}),
    registerInDns: adapter.registerInDns,
    mtu: port.mtu ?? adapter.mtu,
    ...(adapter.category ? { category: adapter.category } : {}),
  };
}

export interface FirstbootConfigInput {
  runId: string;
  expectBus: DiskBus;
  plan: Pick<StoredPlan, 'ports' | 'guest' | 'windows' | 'disks' | 'settings' | 'drivers'>;
}

export function firstbootConfigV2({ runId, expectBus, plan }: FirstbootConfigInput): FirstbootConfigV2 {
  const facts = plan.guest;
  const config: FirstbootConfigV2 = {
    version: 2,
    runId,
    expectBus,
    ...(facts ? { sourceUuid: facts.sourceUuid.toLowerCase() } : {}),
    removeVmwareTools: plan.settings.removeVmwareTools,
  };
  if (facts) {
    const adapters: AdapterReplay[] = [];
    plan.ports.forEach((port, order) => {
      const mac = port.sourceMac.toLowerCase().replace(/-/g, ':');
      const adapter = facts.adapters.find((a) => a.mac.toLowerCase() === mac);
      if (adapter) adapters.push(replayOf(port, order, adapter));
    });
    const captured = [...facts.ghostAdapters, ...facts.adapters].map((a) => a.description);
    const descriptions = [
      ...new Set([
        ...VMWARE_NIC_DESCRIPTIONS,
        ...captured.filter((d) => VMWARE_NIC_DESCRIPTIONS.some((v) => d.startsWith(v))),
      ]),
    ];
    config.network = {
      removeGhosts: { mechanism: ghostRemovalFor(plan.windows), descriptions },
      adapters,
    };
  }
  // Windows Server's default SAN policy (OfflineShared) brings moved data disks up offline.
  if (facts || plan.disks.some((d) => d.role === 'data')) {
    const letters = (facts?.disks ?? [])
      .filter((d) => !d.system && !d.boot)
      .flatMap((d) => d.volumes)
      .filter((v) => v.driveLetter)
      .map((v) => ({ volumeGuid: v.guid, driveLetter: v.driveLetter!.toUpperCase() }));
    config.disks = { sanPolicy: 'OnlineAll', online: true, letters };
  }
  if (plan.settings.guestAgent && plan.drivers?.guestAgentMsi)
    config.guestAgent = { msi: GUEST_AGENT_MSI_PATH };
  return config;
}
