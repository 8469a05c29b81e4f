import { describe, expect, it } from 'vitest';
import { escapeControl, painter } from '../../src/render/output.js';

describe('escapeControl', () => {
  it('shows terminal control characters in caret notation, keeps newlines and tabs', () => {
    expect(escapeControl('boom \u001b]0;pwned\u0007\u001b[2J cleared\r\n\tnext\u007f\u009b')).toBe('boom ^[]0;pwned^G^[[2J cleared^M\n\tnext^?\\u009b');
  });

  it('leaves plain text (and non-ASCII letters) alone', () => {
    const text = 'web   blue   ready   Zürich ✓\n';
    expect(escapeControl(text)).toBe(text);
  });

  it('keeps exactly the colours painter() writes when asked, and escapes every other sequence', () => {
    const paint = painter(true);
    const cell = paint('green', 'ready') + ' ' + paint('red', 'stale') + ' ' + paint('yellow', 'x') + paint('bold', 'b') + paint('dim', 'd');
    expect(escapeControl(cell, true)).toBe(cell);
    expect(escapeControl('\u001b[8mhidden\u001b[0m', true)).toBe('^[[8mhidden\u001b[0m');
    expect(escapeControl(cell)).not.toContain('\u001b');
  });
});
