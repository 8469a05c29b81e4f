/**
 * The hook sidecar list `hooks.kubevirt.io/hookSidecars` (kubevirt
 * pkg/hooks/hooks.go): a JSON list of `{image?, imagePullPolicy?, command?,
 * args?, configMap?: {name, key, hookPath}, pvc?: {name, volumePath,
 * sharedComputePath}, downwardAPI?}`. virt-controller unmarshals it with Go's
 * encoding/json, so a value of the wrong type makes the VMI fail. This codec
 * refuses those shapes, finds the netconf sidecar entry, and adds, updates or
 * removes only that entry, keeping every other sidecar and every field as it
 * was.
 */
import { jsonKind } from './netconf.js';

export const HOOK_SIDECARS_ANNOTATION = 'hooks.kubevirt.io/hookSidecars';

/** The environment variable that names the netconf sidecar image when --sidecar-image is not given. */
export const NETCONF_IMAGE_ENV = 'KUBECTL_VNET_NETCONF_IMAGE';

// The image reference grammar of the container runtimes (distribution/reference):
// [domain[:port]/]path-component[/path-component...][:tag][@digest].
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const IMAGE_REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

/** Why `image` is not a container image reference the kubelet can pull, or undefined when it is one. */
export function imageReferenceProblem(image: string): string | undefined {
  if (image.trim() === '') return 'it is empty';
  if (/\s/.test(image)) return 'it contains white space';
  if (!IMAGE_REFERENCE.test(image)) return 'it is not [REGISTRY[:PORT]/]PATH[:TAG][@DIGEST] with a lower-case PATH';
  const name = image.replace(/@.*$/, '').replace(/:[\w][\w.-]*$/, '');
  if (name.length > 255) return 'its name is longer than 255 characters';
  return undefined;
}

export interface HookSidecar {
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  configMap?: { name?: string; key?: string; hookPath?: string; [k: string]: unknown } | null;
  pvc?: { name?: string; volumePath?: string; sharedComputePath?: string; [k: string]: unknown } | null;
  [key: string]: unknown;
}

export type HookSidecarsParse = { ok: true; sidecars: HookSidecar[] } | { ok: false; error: string };

const STRING_FIELDS = ['image', 'imagePullPolicy', 'downwardAPI'] as const;
const STRING_LIST_FIELDS = ['command', 'args'] as const;
const OBJECT_FIELDS = { configMap: ['name', 'key', 'hookPath'], pvc: ['name', 'volumePath', 'sharedComputePath'] } as const;

function checkEntry(o: Record<string, unknown>, i: number): string | null {
  const at = `entry [${i}]`;
  for (const f of STRING_FIELDS) {
    if (o[f] !== undefined && o[f] !== null && typeof o[f] !== 'string') return `${at}: "${f}" is ${jsonKind(o[f])}, not a string`;
  }
  for (const f of STRING_LIST_FIELDS) {
    const v = o[f];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) return `${at}: "${f}" is ${jsonKind(v)}, not a list of strings`;
    const bad = v.findIndex((x) => typeof x !== 'string');
    if (bad >= 0) return `${at}: "${f}"[${bad}] is ${jsonKind(v[bad])}, not a string`;
  }
  for (const [f, keys] of Object.entries(OBJECT_FIELDS)) {
    const v = o[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) return `${at}: "${f}" is ${jsonKind(v)}, not an object`;
    for (const k of keys) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined && x !== null && typeof x !== 'string') return `${at}: "${f}.${k}" is ${jsonKind(x)}, not a string`;
    }
  }
  return null;
}

/** Parses the annotation value; absent (undefined) means no sidecars. */
export function parseHookSidecars(value: string | undefined): HookSidecarsParse {
  if (value === undefined) return { ok: true, sidecars: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch (err) {
    return { ok: false, error: `not valid JSON (${(err as Error).message})` };
  }
  if (!Array.isArray(doc)) return { ok: false, error: `not a JSON list: it is ${jsonKind(doc)}; expected [{"image": "..."}, ...]` };
  for (let i = 0; i < doc.length; i++) {
    const e = doc[i] as unknown;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) return { ok: false, error: `entry [${i}] is ${jsonKind(e)}, not an object` };
    const problem = checkEntry(e as Record<string, unknown>, i);
    if (problem) return { ok: false, error: problem };
  }
  return { ok: true, sidecars: doc as HookSidecar[] };
}

export function serializeHookSidecars(sidecars: readonly HookSidecar[]): string {
  return JSON.stringify(sidecars);
}

/** The repository part of an image reference, without registry path, tag or digest: "netconf-hook-sidecar". */
export function imageRepositoryName(image: string): string {
  const noDigest = image.split('@')[0];
  const last = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon >= 0 ? last.slice(0, colon) : last;
}

/** An entry is the netconf sidecar when its image's repository name contains "netconf" (e.g. kubevirt/netconf-hook-sidecar). */
export function isNetconfSidecar(s: HookSidecar): boolean {
  return typeof s.image === 'string' && /netconf/i.test(imageRepositoryName(s.image));
}

/** The image of the first netconf sidecar entry, if any. */
export function netconfSidecarImage(sidecars: readonly HookSidecar[]): string | undefined {
  return sidecars.find(isNetconfSidecar)?.image;
}

/**
 * Makes sure exactly one netconf sidecar entry exists, with the given image:
 * the first existing one keeps all its fields and gets the image, further
 * netconf entries are dropped, and one `{image}` entry is appended when there
 * is none. Other sidecars are kept as they were, in order.
 */
export function ensureNetconfSidecar(sidecars: readonly HookSidecar[], image: string): { sidecars: HookSidecar[]; changed: boolean } {
  const out: HookSidecar[] = [];
  let found = false;
  let changed = false;
  for (const s of sidecars) {
    if (!isNetconfSidecar(s)) {
      out.push(s);
      continue;
    }
    if (found) {
      changed = true;
      continue;
    }
    found = true;
    if (s.image === image) out.push(s);
    else {
      out.push({ ...s, image });
      changed = true;
    }
  }
  if (!found) {
    out.push({ image });
    changed = true;
  }
  return { sidecars: out, changed };
}

/** Removes every netconf sidecar entry; other sidecars are kept as they were. */
export function removeNetconfSidecar(sidecars: readonly HookSidecar[]): { sidecars: HookSidecar[]; changed: boolean } {
  const out = sidecars.filter((s) => !isNetconfSidecar(s));
  return { sidecars: out, changed: out.length !== sidecars.length };
}
