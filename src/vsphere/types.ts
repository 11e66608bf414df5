// Plain data types shared by the vSphere layers.

/** A managed object reference: `{ type: 'VirtualMachine', value: 'vm-42' }`. */
export interface MoRef {
  type: string;
  value: string;
}

export function moRefEquals(a: MoRef | undefined, b: MoRef | undefined): boolean {
  return !!a && !!b && a.type === b.type && a.value === b.value;
}

export function moRefString(r: MoRef): string {
  return `${r.type}:${r.value}`;
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
