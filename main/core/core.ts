import path from 'node:path';
import { openDatabase, schemaVersion, DB_FILE_NAME, type Db, type MigrationReport } from '../db/database';
import { VmContextRepository } from '../db/repositories/vm-contexts';
import { EventBus } from '../ipc/event-bus';
import { Logbook } from '../logbook/logbook';
import type { SecretStore } from '../secrets/secret-store';
import { silentLogger, type AppLogger } from './app-log';
import pkg from '../../package.json';

export type CoreTransport = 'electron' | 'dev-bridge' | 'cli';

export interface CoreOptions {
  dataDir: string;
  transport: CoreTransport;
  secrets: SecretStore;
  logger?: AppLogger;
  bus?: EventBus;
}

/** The services every transport shares, built once per process over one data directory. */
export class Core {
  readonly db: Db;
  readonly migration: MigrationReport;
  readonly contexts: VmContextRepository;
  readonly logbook: Logbook;
  readonly bus: EventBus;
  readonly secrets: SecretStore;
  readonly logger: AppLogger;
  readonly dataDir: string;
  readonly transport: CoreTransport;
  readonly version: string = pkg.version;
  private readonly closers: (() => void | Promise<void>)[] = [];

  constructor(options: CoreOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.transport = options.transport;
    const { db, migration } = openDatabase(path.join(this.dataDir, DB_FILE_NAME));
    this.db = db;
    this.migration = migration;
    this.secrets = options.secrets;
    this.logger = options.logger ?? silentLogger;
    this.bus = options.bus ?? new EventBus();
    this.contexts = new VmContextRepository(db);
    this.logbook = new Logbook(db);
    this.logbook.onEvent((e) => this.bus.emit('logs:appended', { events: [e] }));
  }

  schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /** Services register their shutdown here; close() runs them in reverse order. */
  onClose(fn: () => void | Promise<void>): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.closers.reverse()) await fn();
    this.bus.flush();
    this.db.close();
  }
}
