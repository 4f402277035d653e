import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { VmGroupRepository } from '../db/repositories/vm-groups';
import { VmContextRepository } from '../db/repositories/vm-contexts';
import { Logbook } from '../logbook/logbook';
import { twoDiskVm } from '../testing/two-disk-vm';
import { MachineGroups } from './machine-groups';

let dir: string;
let db: Db;
let logbook: Logbook;
let groups: MachineGroups;
let contexts: VmContextRepository;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-machine-groups-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  logbook = new Logbook(db);
  contexts = new VmContextRepository(db);
  groups = new MachineGroups(new VmGroupRepository(db), logbook, (id) => contexts.get(id)?.name ?? id);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('MachineGroups', () => {
  it('records every change an operator makes in the job log, in order, with the names involved', () => {
    const web1 = contexts.add({ vm: twoDiskVm({ name: 'web1', vmwareVmId: 'id-web1' }), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null }).id;
    const web2 = contexts.add({ vm: twoDiskVm({ name: 'web2', vmwareVmId: 'id-web2' }), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null }).id;
    const g = groups.create({ name: 'web tier' });
    groups.update(g.id, { maxConcurrentVms: 2 });
    groups.addMembers(g.id, [web1, web2], 50);
    groups.updateMember(g.id, web1, { enabled: false });
    groups.removeMember(g.id, web2);
    groups.remove(g.id);
    const ops = logbook.operations({ kind: 'schedule' }).reverse();
    expect(ops.map((o) => [o.title, o.status])).toEqual([
      ['Machine group web tier created', 'completed'],
      ['Machine group web tier changed', 'completed'],
      ['Added web1, web2 to machine group web tier', 'completed'],
      ['web1 in machine group web tier: disabled', 'completed'],
      ['Removed web2 from machine group web tier', 'completed'],
      ['Machine group web tier deleted', 'completed'],
    ]);
    expect(ops[3]!.vmContextId).toBe(web1);
    expect(logbook.events({ operationId: ops[1]!.id })[0]!.message).toBe('Machine group web tier changed: maxConcurrentVms');
  });

  it('records nothing for a change that is refused', () => {
    expect(() => groups.addMembers('no-such-group', ['x'])).toThrow();
    expect(() => groups.remove('no-such-group')).toThrow();
    expect(logbook.operations({ kind: 'schedule' })).toEqual([]);
  });
});
