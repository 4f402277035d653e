// Keys for the rows of a virtual list by screen slot rather than by what they show. Scrolling then
// hands a row that left the window to one that entered it: React updates that row's text in place
// instead of unmounting one row and mounting another (with every cell, subscription and DOM node),
// which is most of what a frame of fast scrolling through 10,000 VMs would otherwise cost.

/**
 * Slot numbers for the indexes a virtual list renders, stable across renders: an index rendered last
 * time keeps its slot; a new index takes the lowest slot free. No two indexes share a slot.
 */
export class RowSlots {
  private slotByIndex = new Map<number, number>();

  assign(indexes: readonly number[]): number[] {
    const next = new Map<number, number>();
    const taken = new Set<number>();
    for (const i of indexes) {
      const s = this.slotByIndex.get(i);
      if (s !== undefined && !next.has(i)) {
        next.set(i, s);
        taken.add(s);
      }
    }
    // A new index takes the lowest slot no kept row holds: while the window keeps its size those are
    // exactly the slots of the rows that left (still mounted), and slots never outnumber the largest
    // window seen.
    let free = 0;
    const slots = indexes.map((i) => {
      let s = next.get(i);
      if (s === undefined) {
        while (taken.has(free)) free++;
        s = free;
        taken.add(s);
        next.set(i, s);
      }
      return s;
    });
    this.slotByIndex = next;
    return slots;
  }
}
