import type { NbdAccess } from './domain';

const isLoopback = (address: string) => /^127\./.test(address) || address === '::1' || address === 'localhost';

/**
 * How nbdkit on an OMA appliance admits clients, in one wording for Settings and `mkc`: it serves
 * every replica read-write, so who can connect is what an operator needs to see.
 */
export function nbdAccessText(a: NbdAccess): string {
  const listen = a.listenAddress ?? '127.0.0.1';
  if (a.allowedClients.length > 0) return `nbdkit on ${listen} admits only ${a.allowedClients.join(', ')} and the appliance itself`;
  if (isLoopback(listen)) return `nbdkit on ${listen}: only the appliance itself and SSH forwards reach the replicas`;
  return `nbdkit on ${listen} admits anyone who reaches it: set nbdAllowedClients to the VMA's address`;
}
