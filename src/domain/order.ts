/**
 * Orders strings by UTF-16 code units, as the API server lists objects and
 * kubectl sorts names: the same order in every locale, and no ICU collator
 * (whose first use costs several milliseconds of start-up).
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
