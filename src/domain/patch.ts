/**
 * JSON Patch (RFC 6902) as kubectl-vnet plans and applies it. Every edit is
 * planned as a list of operations against the object as read, guarded by
 * `test` operations on what the plan relies on, so the API server rejects
 * it if a concurrent writer changed those parts. The same operations are
 * applied locally for --dry-run=client and for manifest files.
 */
import { VnetError } from '../errors.js';
import type { Warning } from './types.js';

export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** What a planner returns: the operations, and what to tell the user. */
export interface EditPlan {
  ops: JsonPatchOp[];
  /** One line saying what the edit does, e.g. "add interface blue (bridge) on ns/blue-net". */
  summary: string;
  warnings: Warning[];
  /** Facts for the user that are not warnings (e.g. "applies at the next start"). */
  notes: string[];
  /** True when the object already is as asked: nothing to send. */
  noop?: boolean;
}

/** Escapes one reference token of a JSON Pointer (RFC 6901). */
export function pointerToken(s: string | number): string {
  return String(s).replaceAll('~', '~0').replaceAll('/', '~1');
}

export function pointer(...tokens: (string | number)[]): string {
  return tokens.map((t) => '/' + pointerToken(t)).join('');
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new Error(`invalid JSON pointer ${p}`);
  return p
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** Structural equality of JSON values, as a JSON Patch `test` compares them. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b as object, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Thrown when a `test` op fails or a path is missing: the plan is stale. */
export class PatchConflict extends VnetError {
  constructor(message: string) {
    super('precondition', message, { hint: 'the object changed while the edit was planned; run the command again' });
    this.name = 'PatchConflict';
  }
}

/**
 * Applies operations to a deep copy of doc and returns it; the input is
 * never modified. Fails as the API server would on a failed `test`, a
 * missing parent or an index out of range.
 */
export function applyPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  let root: unknown = structuredClone(doc);
  for (const op of ops) {
    const tokens = parsePointer(op.path);
    if (tokens.length === 0) {
      if (op.op === 'test') {
        if (!deepEqual(root, op.value)) throw new PatchConflict(`test failed at the document root`);
        continue;
      }
      if (op.op === 'remove') throw new PatchConflict('cannot remove the document root');
      root = structuredClone(op.value);
      continue;
    }
    const parentTokens = tokens.slice(0, -1);
    const last = tokens[tokens.length - 1];
    let parent: unknown = root;
    for (const t of parentTokens) {
      if (Array.isArray(parent)) parent = parent[Number(t)];
      else if (parent && typeof parent === 'object') parent = (parent as Record<string, unknown>)[t];
      else parent = undefined;
      if (parent === undefined) throw new PatchConflict(`path ${op.path} does not exist`);
    }
    if (Array.isArray(parent)) {
      const idx = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(idx) || idx < 0) throw new PatchConflict(`bad array index in ${op.path}`);
      switch (op.op) {
        case 'add':
          if (idx > parent.length) throw new PatchConflict(`index out of range in ${op.path}`);
          parent.splice(idx, 0, structuredClone(op.value));
          break;
        case 'replace':
          if (idx >= parent.length) throw new PatchConflict(`index out of range in ${op.path}`);
          parent[idx] = structuredClone(op.value);
          break;
        case 'remove':
          if (idx >= parent.length) throw new PatchConflict(`index out of range in ${op.path}`);
          parent.splice(idx, 1);
          break;
        case 'test':
          if (!deepEqual(parent[idx], op.value)) throw new PatchConflict(`test failed at ${op.path}`);
          break;
      }
    } else if (parent && typeof parent === 'object') {
      const obj = parent as Record<string, unknown>;
      switch (op.op) {
        case 'add':
          obj[last] = structuredClone(op.value);
          break;
        case 'replace':
          if (!Object.hasOwn(obj, last)) throw new PatchConflict(`path ${op.path} does not exist`);
          obj[last] = structuredClone(op.value);
          break;
        case 'remove':
          if (!Object.hasOwn(obj, last)) throw new PatchConflict(`path ${op.path} does not exist`);
          delete obj[last];
          break;
        case 'test':
          if (!deepEqual(obj[last], op.value)) throw new PatchConflict(`test failed at ${op.path}`);
          break;
      }
    } else {
      throw new PatchConflict(`path ${op.path} does not exist`);
    }
  }
  return root as T;
}
