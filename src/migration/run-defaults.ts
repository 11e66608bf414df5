// Defaults of the options a run takes from the command line rather than the plan file (whose
// defaults live in plan-file.ts). No imports, so the CLI's --help can show them without loading
// the migration code.

/** How long the shutdown step waits for the guest to power off (`--shutdown-timeout`). */
export const DEFAULT_SHUTDOWN_TIMEOUT_S = 600;
