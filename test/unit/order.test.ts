import { describe, expect, it } from 'vitest';
import { compareStrings } from '../../src/domain/order.js';

describe('compareStrings', () => {
  it('orders by code units, as the API server lists names (not by locale collation)', () => {
    // An English collator puts "B" between "ab" and "b"; code-unit order puts it first.
    expect(['ab', 'a-b', 'b', 'B', 'a10', 'a2'].sort(compareStrings)).toEqual(['B', 'a-b', 'a10', 'a2', 'ab', 'b']);
  });
  it('is zero only for equal strings', () => {
    expect(compareStrings('vm-1', 'vm-1')).toBe(0);
    expect(compareStrings('vm-1', 'vm-10')).toBeLessThan(0);
    expect(compareStrings('vm-10', 'vm-1')).toBeGreaterThan(0);
  });
});
