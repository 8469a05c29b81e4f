/**
 * The netconf hook sidecar's annotation `netconf.kubevirt.io/macAddress`: a
 * JSON list of `{name, macAddress}`, `name` being the VM interface name. The
 * sidecar unmarshals it with Go's encoding/json and panics on anything it
 * cannot read, so the VM fails to start: this codec refuses every shape that
 * is not exactly a list of objects with string `name` and `macAddress`, and
 * rewrites only the entry it is asked to, keeping every other entry (and
 * unknown fields) as they were.
 */

export const NETCONF_ANNOTATION = 'netconf.kubevirt.io/macAddress';

export interface NetconfEntry {
  name: string;
  macAddress: string;
  [key: string]: unknown;
}

export type NetconfParse = { ok: true; entries: NetconfEntry[] } | { ok: false; error: string };

/** "a string", "a number", "null", "a list", "an object". */
export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}

/**
 * Parses the annotation value. Absent (undefined) means no entries. Anything
 * else must be a JSON list whose elements are objects with a non-empty string
 * `name` and a string `macAddress`; the error names the first problem.
 */
export function parseNetconfAnnotation(value: string | undefined): NetconfParse {
  if (value === undefined) return { ok: true, entries: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch (err) {
    return { ok: false, error: `not valid JSON (${(err as Error).message})` };
  }
  if (!Array.isArray(doc)) return { ok: false, error: `not a JSON list: it is ${jsonKind(doc)}; expected [{"name": "<interface>", "macAddress": "<mac>"}, ...]` };
  const entries: NetconfEntry[] = [];
  for (let i = 0; i < doc.length; i++) {
    const e = doc[i] as unknown;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) return { ok: false, error: `entry [${i}] is ${jsonKind(e)}, not an object {"name", "macAddress"}` };
    const o = e as Record<string, unknown>;
    if (!('name' in o)) return { ok: false, error: `entry [${i}] has no "name"` };
    if (typeof o.name !== 'string') return { ok: false, error: `entry [${i}]: "name" is ${jsonKind(o.name)}, not a string` };
    if (o.name === '') return { ok: false, error: `entry [${i}]: "name" is empty` };
    if (!('macAddress' in o)) return { ok: false, error: `entry [${i}] ("${o.name}") has no "macAddress"` };
    if (typeof o.macAddress !== 'string') return { ok: false, error: `entry [${i}] ("${o.name}"): "macAddress" is ${jsonKind(o.macAddress)}, not a string` };
    entries.push(o as NetconfEntry);
  }
  return { ok: true, entries };
}

export function serializeNetconf(entries: readonly NetconfEntry[]): string {
  return JSON.stringify(entries);
}

/** The MAC the annotation asks for on interface name (the last entry wins, as in the sidecar), or undefined. */
export function netconfMacFor(entries: readonly NetconfEntry[], name: string): string | undefined {
  let mac: string | undefined;
  for (const e of entries) if (e.name === name) mac = e.macAddress;
  return mac;
}

/**
 * Sets interface name's MAC: the first entry of that name gets the new
 * macAddress (its other fields kept), later entries of the same name are
 * dropped (never duplicate), a new entry is appended when there is none.
 * Every other entry stays as it was, in order.
 */
export function setNetconfEntry(entries: readonly NetconfEntry[], name: string, mac: string): { entries: NetconfEntry[]; changed: boolean; droppedDuplicates: number } {
  const out: NetconfEntry[] = [];
  let found = false;
  let changed = false;
  let dropped = 0;
  for (const e of entries) {
    if (e.name !== name) {
      out.push(e);
      continue;
    }
    if (found) {
      dropped++;
      changed = true;
      continue;
    }
    found = true;
    if (e.macAddress === mac) out.push(e);
    else {
      out.push({ ...e, macAddress: mac });
      changed = true;
    }
  }
  if (!found) {
    out.push({ name, macAddress: mac });
    changed = true;
  }
  return { entries: out, changed, droppedDuplicates: dropped };
}

/** Removes every entry of interface name; the others stay as they were, in order. */
export function unsetNetconfEntry(entries: readonly NetconfEntry[], name: string): { entries: NetconfEntry[]; changed: boolean } {
  const out = entries.filter((e) => e.name !== name);
  return { entries: out, changed: out.length !== entries.length };
}
