import { describe, expect, it } from 'vitest';
import { shownDetails } from './Logs';

describe('shownDetails', () => {
  it('leaves out what the message already says (a recorded VMA phase) and keeps the rest', () => {
    expect(shownDetails(null)).toBeNull();
    expect(shownDetails({ vmaPhase: 'Transfer' })).toBeNull();
    expect(shownDetails({ vmaPhase: 'Transfer', executionId: 'exe-1' })).toBe('{"executionId":"exe-1"}');
    expect(shownDetails({ executionId: 'exe-1' })).toBe('{"executionId":"exe-1"}');
  });
});
