// Plain data types shared by the vSphere layers.

/** A managed object reference: `{ type: 'VirtualMachine', value: 'vm-42' }`. */
export interface MoRef {
  type: string;
  value: string;
}

/** The parts of ServiceContent the client uses. */
export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  searchIndex?: MoRef;
  guestOperationsManager?: MoRef;
  fileManager?: MoRef;
  about: {
    name: string;
    fullName: string;
    version: string;
    apiType: string;
    apiVersion: string;
    instanceUuid?: string;
  };
}
