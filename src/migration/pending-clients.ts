// Until helper C's source-vsphere.ts and target-openstack.ts implement the SourceOps/TargetOps
// methods of issue 14, this tells the compiler they will (interface merging into the classes).
// The lead deletes this file, and its import in services.ts, when merging C's branch.
import type { DiskReader } from '../transfer/disk-reader.js';
import type { Extent } from '../transfer/extents.js';
import type {
  ChangeTrackingState,
  ConversionHostInfo,
  DiskLayout,
  EmptyVolumeSpec,
  Sig,
  SnapshotRef,
  TrackedDisk,
  VolumeInfo,
} from './services.js';

declare module './source-vsphere.js' {
  interface VSphereSource {
    changeTracking(moref: string, o?: Sig): Promise<ChangeTrackingState>;
    setChangeTracking(moref: string, enabled: boolean, o?: Sig): Promise<void>;
    createSnapshot(
      moref: string,
      spec: { name: string; description: string },
      o?: Sig,
    ): Promise<{ snapshot: SnapshotRef; disks: TrackedDisk[] }>;
    removeSnapshot(snapshotRef: string, o?: Sig): Promise<void>;
    listSnapshots(moref: string, o?: Sig): Promise<SnapshotRef[]>;
    changedAreas(
      moref: string,
      q: { snapshotRef?: string; diskKey: number; changeId: string; capacityBytes: number },
      o?: Sig,
    ): Promise<{ areas: Extent[]; pages: number }>;
    diskLayout(fileName: string, o?: Sig): Promise<DiskLayout>;
    openDiskReader(flatExtent: string, sizeBytes: number): DiskReader;
  }
}

declare module './target-openstack.js' {
  interface OpenStackTarget {
    findConversionHost(spec: { server: string; metadataUrl: string }, o?: Sig): Promise<ConversionHostInfo>;
    createEmptyVolume(spec: EmptyVolumeSpec, o?: Sig): Promise<VolumeInfo>;
    getVolume(id: string, o?: Sig): Promise<VolumeInfo | undefined>;
    extendVolume(id: string, sizeGiB: number, o?: Sig): Promise<void>;
    attachVolume(serverId: string, volumeId: string, o?: Sig): Promise<void>;
    detachVolume(serverId: string, volumeId: string, o?: Sig): Promise<void>;
  }
}
