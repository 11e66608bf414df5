// Every volume-route disk is attached to the conversion host at once. A q35 guest hot-plugs disks
// into free PCIe root ports (Nova: [libvirt] num_pcie_ports; QEMU docs/pcie.txt: no hot-plug
// without a free root port), so the host takes only `attachmentSlots` minus what it holds now.
import { blocker, type Rule } from './types.js';

export const attachmentSlotsRule: Rule = {
  codes: ['attachment-slots'],
  side: 'target',
  evaluate(_vm, settings, _g, m) {
    const host = m.conversionHost;
    const slots = settings.conversionHost?.attachmentSlots;
    if (!host || slots === undefined) return [];
    const need = m.disks.filter((d) => d.route === 'volume').length;
    const free = slots - host.attachedVolumeIds.length;
    if (need <= free) return [];
    return [
      blocker(
        'attachment-slots',
        `the attachment limit is reached: conversion host ${host.name} needs ${need} more volume(s) attached, ${Math.max(0, free)} of its ${slots} slot(s) are free (${host.attachedVolumeIds.length} attached)`,
        `detach volumes from ${host.name}, migrate fewer disks at once, or raise conversionHost.attachmentSlots if the host has more hot-plug ports (Nova [libvirt] num_pcie_ports)`,
      ),
    ];
  },
};
