// Nova's absolute limits and usage as the API returns them (GET /limits → limits.absolute).
// What they leave for a migration (max − used, -1 = unlimited) is the migration's to work out.

export interface ComputeAbsoluteLimits {
  maxTotalInstances?: number;
  totalInstancesUsed?: number;
  maxTotalCores?: number;
  totalCoresUsed?: number;
  /** MiB */
  maxTotalRAMSize?: number;
  totalRAMUsed?: number;
  maxServerGroups?: number;
  totalServerGroupsUsed?: number;
  [key: string]: number | undefined;
}
