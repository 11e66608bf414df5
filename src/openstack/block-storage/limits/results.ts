// Cinder's absolute limits and usage as the API returns them (GET /limits → limits.absolute).
// What they leave for a migration (max − used, -1 = unlimited) is the migration's to work out.

export interface VolumeAbsoluteLimits {
  maxTotalVolumes?: number;
  totalVolumesUsed?: number;
  maxTotalVolumeGigabytes?: number;
  totalGigabytesUsed?: number;
  maxTotalSnapshots?: number;
  totalSnapshotsUsed?: number;
  [key: string]: number | undefined;
}
