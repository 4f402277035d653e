import { migration001 } from './001_initial';
import { migration002 } from './002_callback_tokens';
import { migration003 } from './003_replica_torn';
import { migration004 } from './004_scheduler';
import { migration006 } from './006_failovers';
import { migration010 } from './010_logbook_kinds';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Ordered; a shipped migration is never edited, only followed by a new one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial schema', sql: migration001 },
  { version: 2, name: 'per-job callback tokens', sql: migration002 },
  { version: 3, name: 'torn replica marker, copy start, job capacity', sql: migration003 },
  { version: 4, name: 'scheduler: schedules, VM groups, executions', sql: migration004 },
  { version: 6, name: 'failovers, network mappings, boot disk choices', sql: migration006 },
  { version: 10, name: 'log kinds for inventory, credentials and CloudStack settings', sql: migration010 },
];
