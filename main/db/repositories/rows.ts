// Helpers to map snake_case rows; kept tiny so each repository states its own columns.
export const bool = (v: unknown): boolean => v === 1 || v === true;
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export function parseJson<T>(v: unknown, fallback: T): T {
  if (typeof v !== 'string' || v === '') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}
