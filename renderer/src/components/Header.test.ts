import { describe, expect, it } from 'vitest';
import type { TunnelState } from '../../../shared/domain';
import { tunnelText, tunnelTitle } from './Header';

const ready = (callbackForward: TunnelState['callbackForward']): TunnelState => ({
  applianceId: 'a1', state: 'ready', nextAttemptAt: null, attempt: 0, reason: null, offeredFingerprint: null, errorCode: null, callbackForward,
});

describe('tunnel text in the header', () => {
  it('reads plain "ready" when the callback forward is bound, with the forward in the tooltip', () => {
    const t = ready({ state: 'bound', port: 8082, reason: null });
    expect(tunnelText(t)).toBe('ready');
    expect(tunnelTitle(t)).toBe('ready · callback forward 127.0.0.1:8082 bound');
  });
  it('says beside "ready" that no copy can start while the forward is refused', () => {
    const t = ready({ state: 'refused', port: 8082, reason: 'Address already in use' });
    expect(tunnelText(t)).toBe('ready · callback forward 127.0.0.1:8082 refused: Address already in use; no copy can start');
    expect(tunnelTitle(t)).toBe(tunnelText(t));
  });
  it('says a forward is still requested', () => {
    expect(tunnelText(ready({ state: 'requested', port: 9000, reason: null }))).toBe('ready · callback forward 127.0.0.1:9000 requested');
  });
  it('reads "ready" for appliances without a callback forward (the OMA)', () => {
    expect(tunnelText(ready(null))).toBe('ready');
    expect(tunnelTitle(ready(undefined))).toBe('ready');
  });
});
