// Disk controller names for people: a dependency-free module, so the CLI's plan view can use it
// without loading the SOAP client.

/** How vSphere's UI names each controller, for people reading a plan. */
const CONTROLLER_LABEL: Record<string, string> = {
  VirtualLsiLogicSASController: 'LSI Logic SAS',
  VirtualLsiLogicController: 'LSI Logic Parallel',
  VirtualBusLogicController: 'BusLogic Parallel',
  ParaVirtualSCSIController: 'VMware Paravirtual SCSI',
  VirtualAHCIController: 'SATA (AHCI)',
  VirtualSATAController: 'SATA',
  VirtualIDEController: 'IDE',
  VirtualNVMEController: 'NVMe',
};

/** "VirtualLsiLogicSASController" → "LSI Logic SAS"; an unknown vim type is shown as it is. */
export function controllerLabel(vimType: string): string {
  return CONTROLLER_LABEL[vimType] ?? vimType;
}
