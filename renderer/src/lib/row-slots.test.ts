import { describe, expect, it } from 'vitest';
import { RowSlots } from './row-slots';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

describe('RowSlots', () => {
  it('keeps the slot of a row that stays in the window and gives a row that enters the slot of one that left', () => {
    const r = new RowSlots();
    expect(r.assign(range(0, 5))).toEqual([0, 1, 2, 3, 4]);
    // Scrolled down two rows: 0 and 1 left, 5 and 6 entered and take their slots.
    expect(r.assign(range(2, 7))).toEqual([2, 3, 4, 0, 1]);
    // A jump far away reuses every slot, no new ones.
    expect(r.assign(range(500, 505)).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('never gives two rows the same slot, however the window moves or grows', () => {
    const r = new RowSlots();
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let maxSlots = 0;
    for (let step = 0; step < 500; step++) {
      const start = rand(1000);
      const rows = range(start, start + 1 + rand(30));
      // The active row is kept rendered even when it is out of the window (VirtualMachines.tsx).
      if (rand(2) === 0) rows.push(2000 + rand(3));
      const slots = r.assign(rows);
      expect(new Set(slots).size).toBe(rows.length);
      maxSlots = Math.max(maxSlots, ...slots);
    }
    // Slots are reused: never more than the largest window seen.
    expect(maxSlots).toBeLessThan(31);
  });
});
