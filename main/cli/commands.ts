import type { CliCommand } from './command';
import { coreCommands } from './commands-core';

/** Every command mkc knows; later capabilities append their lists here. */
export const ALL_COMMANDS: readonly CliCommand[] = [...coreCommands];
