import { migration001 } from './001_initial';
import { migration002 } from './002_callback_tokens';
import { migration003 } from './003_replica_torn';
import { migration004 } from './004_scheduler';
import { migration006 } from './006_failovers';
import { migration008 } from './008_failover_options';
import { migration010 } from './010_logbook_kinds';
import { migration011 } from './011_job_disks_by_disk';

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
  { version: 8, name: 'failover options', sql: migration008 },
  { version: 10, name: 'log kinds for inventory, credentials and CloudStack settings', sql: migration010 },
  { version: 11, name: 'job disks by VM disk', sql: migration011 },
];
