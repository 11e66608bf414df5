// The CLI's commands, one module each. Order is the order in `v2o --help`.
import type { CommandModule } from '../command.js';

export const commands: CommandModule[] = [];
