// Where the VM table's column choice is kept: this browser profile's localStorage (a view preference,
// not something the core acts on). The first localStorage access of a page is a synchronous call to
// the browser process, which loads the origin's storage; inside the table's first render it took
// 80–110 ms now and then on a busy machine (test/bench/inventory-render.ts). The entry (main.tsx)
// therefore reads it once, early, while the page waits for the core's first answer; the table then
// takes the value from here.
import { COLUMNS_STORAGE_KEY } from './vm-columns';

let stored: string | null | undefined;

// Another window of the same profile (the dev bridge in two tabs) changed it: the next table shown here follows.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === COLUMNS_STORAGE_KEY || e.key === null) stored = undefined;
  });
}

/** The stored choice as written (null: none, or no storage); read from localStorage once per page. */
export function storedColumnChoice(): string | null {
  if (stored === undefined) {
    try {
      stored = window.localStorage.getItem(COLUMNS_STORAGE_KEY);
    } catch {
      // A profile without storage: the default columns.
      stored = null;
    }
  }
  return stored;
}

export function storeColumnChoice(value: string): void {
  stored = value;
  try {
    window.localStorage.setItem(COLUMNS_STORAGE_KEY, value);
  } catch {
    // A profile without storage keeps the choice for this session only.
  }
}
