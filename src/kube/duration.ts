import { usageError } from '../errors.js';

/**
 * Parses a kubectl/Go style duration ("30s", "5m", "1h2m", "250ms", or a bare
 * number of seconds as --request-timeout accepts) into milliseconds.
 * "0" means no timeout and returns 0.
 */
export function parseDuration(text: string, flag: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
    matched = re.lastIndex;
  }
  if (s.length === 0 || matched !== s.length) {
    throw usageError(`invalid duration ${JSON.stringify(text)} for ${flag}`, 'use a number with a unit, such as 30s, 5m or 1h');
  }
  return Math.round(total);
}
