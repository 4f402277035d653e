// Connection state of the transport, kept outside React so the transports can report it and the
// header can show it without either knowing about the other.
import { create } from 'zustand';

export type TransportKind = 'electron' | 'dev-bridge';
export type ConnectionPhase = 'connecting' | 'connected' | 'reconnecting' | 'unauthorised';

export interface ConnectionState {
  transport: TransportKind;
  phase: ConnectionPhase;
  /** Why the connection is not up (close reason, missing token, …). */
  detail: string | null;
  /** ISO time of the next reconnect attempt while reconnecting. */
  nextAttemptAt: string | null;
  /** Increments on every successful (re)connect so views can refetch what they missed. */
  generation: number;
}

export const useConnection = create<ConnectionState>(() => ({
  transport: 'dev-bridge',
  phase: 'connecting',
  detail: null,
  nextAttemptAt: null,
  generation: 0,
}));

export const setConnection = (patch: Partial<ConnectionState>): void => useConnection.setState(patch);
