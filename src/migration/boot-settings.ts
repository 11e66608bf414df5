// The plan's boot verification settings for a run. Runs journaled before they existed get the
// defaults, so resuming one behaves like a new run with an unchanged plan file.
import {
  type BootCheck,
  type BootFallback,
  DEFAULT_BOOT_TIMEOUT_SECONDS,
  type VmMigrationConfig,
} from './plan-file.js';

export interface BootSettings {
  bootCheck: BootCheck;
  bootFallback: BootFallback;
  bootTimeoutSeconds: number;
}

export function bootSettings(config: Partial<Pick<VmMigrationConfig, keyof BootSettings>>): BootSettings {
  return {
    bootCheck: config.bootCheck ?? 'marker',
    bootFallback: config.bootFallback ?? 'sata',
    bootTimeoutSeconds: config.bootTimeoutSeconds ?? DEFAULT_BOOT_TIMEOUT_SECONDS,
  };
}
