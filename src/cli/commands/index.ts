// The CLI's commands, one module each. Order is the order in `v2o --help`.
import type { CommandModule } from '../command.js';
import { initCommand } from './init.js';
import { inventoryCommand } from './inventory.js';

export const commands: CommandModule[] = [initCommand, inventoryCommand];
