import { describe, expect, it } from 'vitest';
import { nbdAccessText } from './nbd-access-text';

describe('nbdAccessText', () => {
  it('names the admitted clients when the ip filter is set', () => {
    expect(nbdAccessText({ listenAddress: '0.0.0.0', allowedClients: ['10.0.0.9', '10.1.0.0/24'] })).toBe('nbdkit on 0.0.0.0 admits only 10.0.0.9, 10.1.0.0/24 and the appliance itself');
  });
  it('says loopback (the default) is reachable only from the appliance and its SSH forwards', () => {
    expect(nbdAccessText({ listenAddress: null, allowedClients: [] })).toBe('nbdkit on 127.0.0.1: only the appliance itself and SSH forwards reach the replicas');
  });
  it('warns about an open listen address stored before the filter existed', () => {
    expect(nbdAccessText({ listenAddress: '10.0.0.5', allowedClients: [] })).toMatch(/admits anyone who reaches it: set nbdAllowedClients/);
  });
});
