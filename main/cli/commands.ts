import type { CliCommand } from './command';
import { coreCommands } from './commands-core';
import { applianceCommands } from './commands-appliances';
import { jobCommands } from './commands-jobs';
import { scheduleCommands } from './commands-schedules';
import { failoverCommands } from './commands-failover';
import { groupCommands } from './commands-groups';
import { contextCommands } from './commands-contexts';

/** Every command mkc knows; later capabilities append their lists here. */
export const ALL_COMMANDS: readonly CliCommand[] = [...coreCommands, ...contextCommands, ...applianceCommands, ...jobCommands, ...scheduleCommands, ...groupCommands, ...failoverCommands];
