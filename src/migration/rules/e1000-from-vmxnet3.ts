// With vifModel e1000, a vmxnet3 NIC becomes a different adapter to Windows: its static IP
// settings stay with the old (now hidden) adapter. With virtio (the default) NetKVM is installed.
import { type Rule, warning } from './types.js';

export const e1000FromVmxnet3Rule: Rule = {
  codes: ['e1000-from-vmxnet3'],
  side: 'source',
  evaluate: (vm, settings) =>
    settings.vifModel !== 'e1000'
      ? []
      : vm.nics
          .filter((n) => n.adapterType === 'vmxnet3')
          .map((n) =>
            warning(
              'e1000-from-vmxnet3',
              `${n.label} is vmxnet3 and becomes e1000: Windows sees a new NIC and its static IP settings do not carry over`,
              'use vifModel: virtio (NetKVM is installed) or reconfigure the address after migration',
            ),
          ),
};
