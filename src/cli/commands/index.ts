// The CLI's commands, one module each. Order is the order in `v2o --help`.
import type { CommandModule } from '../command.js';
import { fleetRuntime } from '../fleet-runtime.js';
import { approveCommand } from './approve.js';
import { cancelCommand } from './cancel.js';
import { cutoverCommand } from './cutover.js';
import { guestScriptCommand } from './guest-script.js';
import { initCommand } from './init.js';
import { inventoryCommand } from './inventory.js';
import { listCommand } from './list.js';
import { logsCommand } from './logs.js';
import { migrateCommand } from './migrate.js';
import { planCommand } from './plan.js';
import { reassignCommand } from './reassign.js';
import { resumeCommand } from './resume.js';
import { statusCommand } from './status.js';
import { workerCommand } from './worker.js';

export const commands: CommandModule[] = [
  initCommand,
  inventoryCommand,
  planCommand,
  migrateCommand,
  resumeCommand,
  statusCommand,
  listCommand,
  approveCommand,
  cutoverCommand,
  guestScriptCommand,
  cancelCommand,
  logsCommand,
  workerCommand(fleetRuntime),
  reassignCommand(fleetRuntime),
];
