// The virtio-win ISO must carry properly signed drivers for the guest's release: Server 2012 and
// 2012 R2 refuse the test-signed ones of recent builds. Only the ISO's name is known at plan time.
import { detectWindows, type VirtioWinFolder, type WindowsVersion } from '../windows-version.js';
import { blocker, type Finding, type Rule, warning } from './types.js';

/**
 * The last virtio-win build whose drivers for a release are properly signed. Microsoft retired
 * cross-signing: from 0.1.217 (May 2022) the 2k12/2k12R2 drivers are test-signed as far as Server
 * 2012 and 2012 R2 are concerned and fail to load or to be added to the store
 * (virtio-win/virtio-win-pkg-scripts issues #65 and #116, kvm-guest-drivers-windows #1112);
 * vJailbreak pins 0.1.185 for 2012 for the same reason.
 */
const LAST_SIGNED_BUILD: Partial<Record<VirtioWinFolder, number>> = { '2k12': 215, '2k12R2': 215 };

/**
 * The build of a virtio-win ISO from its file name or URL (`virtio-win-0.1.262.iso`,
 * `archive-virtio/virtio-win-0.1.185-2/virtio-win.iso`): the only thing v2o knows about an ISO
 * before it is downloaded or mounted. `stable-virtio/virtio-win.iso` names no build.
 */
export function virtioWinBuild(iso: { path?: string; url?: string }): number | undefined {
  const m = /virtio-win-0\.1\.(\d+)/i.exec(iso.url ?? iso.path ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Does the ISO have a properly signed driver folder for this Windows? */
/** Does the ISO have a properly signed driver folder for this Windows? */
export function virtioWinSignedFolder(
  windows: WindowsVersion,
  iso: { path?: string; url?: string },
): Finding | undefined {
  const last = LAST_SIGNED_BUILD[windows.folder];
  if (last === undefined) return undefined;
  const build = virtioWinBuild(iso);
  const fix = `name an ISO that has signed ${windows.folder} drivers in drivers.virtioWin: virtio-win-0.1.${last} or older, e.g. https://fedorapeople.org/groups/virt/virtio-win/direct-downloads/archive-virtio/virtio-win-0.1.185-2/virtio-win-0.1.185.iso`;
  if (build === undefined) {
    return warning(
      'virtio-win-build-unknown',
      `the virtio-win ISO's name says no build, and only builds up to 0.1.${last} carry signed drivers for ${windows.label}`,
      fix,
    );
  }
  if (build > last) {
    return blocker(
      'virtio-win-unsigned-for-release',
      `virtio-win 0.1.${build} has no properly signed ${windows.folder} drivers: ${windows.label} would refuse them (Microsoft retired cross-signing)`,
      fix,
    );
  }
  return undefined;
}

export const virtioWinSignedRule: Rule = {
  codes: ['virtio-win-build-unknown', 'virtio-win-unsigned-for-release'],
  side: 'target',
  evaluate(vm, settings) {
    const det = detectWindows(vm.guestId, vm.guestFullName);
    const f =
      det.ok && settings.virtioWin ? virtioWinSignedFolder(det.version, settings.virtioWin) : undefined;
    return f ? [f] : [];
  },
};
