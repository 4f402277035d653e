import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appLogFile, fileLogger } from './app-log';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-app-log-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const lines = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message) : []);

describe('fileLogger', () => {
  it('rotates at the size bound, keeping the configured number of older files and no more', () => {
    const log = fileLogger(dir, false, { maxBytes: 200, keep: 2 });
    for (let i = 0; i < 12; i++) log.info(`message ${i} ${'x'.repeat(40)}`);
    const file = appLogFile(dir);
    const logs = fs.readdirSync(path.dirname(file)).sort();
    expect(logs).toEqual(['console.1.log', 'console.2.log', 'console.log']);
    for (const f of logs) expect(fs.statSync(path.join(path.dirname(file), f)).size).toBeLessThanOrEqual(200);
    // The newest message is in console.log, the ones before it in .1 then .2; nothing is out of order.
    const all = [...lines(file.replace('.log', '.2.log')), ...lines(file.replace('.log', '.1.log')), ...lines(file)];
    expect(all.at(-1)).toMatch(/^message 11 /);
    const numbers = all.map((m) => Number(m.split(' ')[1]));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(numbers[0]).toBeGreaterThan(0); // the oldest were dropped
  });

  it('continues the size count of an existing file across restarts', () => {
    fileLogger(dir, false, { maxBytes: 150, keep: 1 }).info('x'.repeat(100));
    fileLogger(dir, false, { maxBytes: 150, keep: 1 }).info('y'.repeat(100));
    expect(lines(appLogFile(dir))).toEqual(['y'.repeat(100)]);
    expect(lines(appLogFile(dir).replace('.log', '.1.log'))).toEqual(['x'.repeat(100)]);
  });

  it('redacts secrets in details', () => {
    fileLogger(dir).warn('connect failed', { password: 'hunter2', host: 'vma' });
    const text = fs.readFileSync(appLogFile(dir), 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('vma');
  });
});
