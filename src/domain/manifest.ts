/**
 * Manifest files for the offline (GitOps) mode: split a YAML or JSON input
 * into documents, find the VirtualMachines in it, and write edits back so
 * that everything not edited stays byte for byte.
 *
 * YAML is edited in place: the edited document is diffed (as plain values,
 * before and after the JSON Patch) against its parse tree, and only the
 * source ranges of what changed are rewritten: a changed scalar keeps its
 * quoting style and the comment after it; a new key or list item is inserted
 * after its last sibling at the siblings' indentation; a removed key or item
 * takes only its own lines. Other documents, comments, key order, blank
 * lines and block scalars (cloud-init user data) are never touched.
 *
 * JSON is parsed, patched and serialised again with the indentation it had
 * (key order is kept by JSON.parse/JSON.stringify).
 *
 * Pure: no file system, no cluster.
 */
import { isMap, isScalar, isSeq, parseAllDocuments, stringify, Document, type Pair, type ParsedNode, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { option, usageError, VnetError } from '../errors.js';
import { applyPatch, deepEqual, type JsonPatchOp } from './patch.js';
import type { VirtualMachine } from './types.js';

export type ManifestFormat = 'yaml' | 'json';

/** Where an object lives: document index, and the path inside it ([] or ['items', i] for a List). */
export interface ObjectRef {
  doc: number;
  path: readonly (string | number)[];
}

export interface Manifest {
  /** Where it came from, for messages: a file name or "stdin". */
  source: string;
  format: ManifestFormat;
  text: string;
  /** Each document as a plain value (null for an empty document). */
  values: unknown[];
  /** YAML only: the parsed documents, with source ranges into text. */
  docs?: Document.Parsed[];
  /** JSON only: how it was laid out. */
  json?: { indent: string; trailingNewline: boolean };
}

export interface ManifestObject {
  ref: ObjectRef;
  object: Record<string, unknown>;
}

export interface ManifestVM {
  ref: ObjectRef;
  vm: VirtualMachine;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lineOf(text: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

// --- reading ---------------------------------------------------------------------

/** Splits a YAML or JSON input into documents. Fails with a usage error naming the source and line. */
export function parseManifest(text: string, source: string): Manifest {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const value = JSON.parse(text) as unknown;
      const m = /\n([ \t]+)\S/.exec(text);
      return { source, format: 'json', text, values: [value], json: { indent: m ? m[1] : '', trailingNewline: text.endsWith('\n') } };
    } catch {
      // Not strict JSON: YAML flow syntax is a superset; let the YAML parser say what is wrong.
    }
  }
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true });
  const values: unknown[] = [];
  for (const d of docs) {
    const err = d.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line ?? lineOf(text, err.pos[0]);
      throw usageError(`${source}: not valid YAML at line ${line}: ${err.message.split('\n')[0]}`, 'fix the file, or check that -f names a manifest');
    }
    values.push(d.toJS({ maxAliasCount: 1000 }) ?? null);
  }
  return { source, format: 'yaml', text, values, docs };
}

/** Every object of the manifest: each document, and the items of a `kind: List` document. */
export function listObjects(m: Manifest): ManifestObject[] {
  const out: ManifestObject[] = [];
  m.values.forEach((v, doc) => {
    if (Array.isArray(v)) {
      v.forEach((o, i) => isPlainObject(o) && out.push({ ref: { doc, path: [i] }, object: o }));
      return;
    }
    if (!isPlainObject(v)) return;
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
      v.items.forEach((o, i) => isPlainObject(o) && out.push({ ref: { doc, path: ['items', i] }, object: o }));
      return;
    }
    out.push({ ref: { doc, path: [] }, object: v });
  });
  return out;
}

export function isVirtualMachine(o: Record<string, unknown>): boolean {
  return o.kind === 'VirtualMachine' && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('kubevirt.io/');
}

function nameOf(o: Record<string, unknown>): { name?: string; namespace?: string } {
  const md = isPlainObject(o.metadata) ? o.metadata : {};
  return { name: typeof md.name === 'string' ? md.name : undefined, namespace: typeof md.namespace === 'string' ? md.namespace : undefined };
}

/**
 * The VirtualMachines to edit: the one named (optionally in a namespace), or
 * every VM with `all`. A name that is not there is a not-found error that
 * lists the VMs the manifest has.
 */
export function selectVMs(m: Manifest, sel: { name?: string; namespace?: string; all?: boolean }): ManifestVM[] {
  const vms = listObjects(m).filter((o) => isVirtualMachine(o.object));
  const inNs = (o: ManifestObject) => sel.namespace === undefined || nameOf(o.object).namespace === undefined || nameOf(o.object).namespace === sel.namespace;
  const asVM = (o: ManifestObject): ManifestVM => ({ ref: o.ref, vm: structuredClone(o.object) as unknown as VirtualMachine });
  const names = vms.map((o) => {
    const n = nameOf(o.object);
    return n.namespace ? `${n.namespace}/${n.name}` : String(n.name);
  });
  if (sel.all) {
    const picked = vms.filter(inNs);
    if (picked.length === 0) {
      throw new VnetError('notFound', `${m.source} has no VirtualMachine${sel.namespace ? ` in namespace "${sel.namespace}"` : ''}`, {
        hint: vms.length > 0 ? `its VirtualMachines are: ${names.join(', ')}` : 'only objects with apiVersion kubevirt.io/* and kind VirtualMachine are edited',
      });
    }
    for (const o of picked) if (!nameOf(o.object).name) throw usageError(`${m.source}: a VirtualMachine (document ${o.ref.doc + 1}) has no metadata.name`, 'give every VirtualMachine a name');
    return picked.map(asVM);
  }
  if (!sel.name) throw usageError(`name the VirtualMachine to edit, or pass ${option('all')} for every VirtualMachine in the file`);
  const picked = vms.filter((o) => nameOf(o.object).name === sel.name && inNs(o));
  if (picked.length === 0) {
    throw new VnetError('notFound', `virtualmachine "${sel.name}" not found in ${m.source}${sel.namespace ? ` (namespace "${sel.namespace}")` : ''}`, {
      hint: vms.length > 0 ? `the VirtualMachines in it are: ${names.join(', ')}` : 'it has no VirtualMachine (apiVersion kubevirt.io/*, kind VirtualMachine)',
    });
  }
  if (picked.length > 1) {
    const nss = picked.map((o) => nameOf(o.object).namespace ?? '(none)');
    throw usageError(`${m.source} has ${picked.length} VirtualMachines named "${sel.name}" (namespaces: ${nss.join(', ')})`, 'pick one with -n NAMESPACE');
  }
  return picked.map(asVM);
}

// --- writing ---------------------------------------------------------------------

export interface ObjectChange {
  ref: ObjectRef;
  /** The object as it should be written. */
  after: unknown;
}

function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur = copy;
  for (const t of path.slice(0, -1)) cur = cur[t] as Record<string | number, unknown>;
  cur[path[path.length - 1]] = value;
  return copy;
}

/** The manifest's text with the changes written in; the input text when nothing changed. */
export function renderManifest(m: Manifest, changes: readonly ObjectChange[]): string {
  const afterDocs = [...m.values];
  for (const c of changes) afterDocs[c.ref.doc] = setAt(afterDocs[c.ref.doc], c.ref.path, c.after);
  if (m.format === 'json') {
    if (deepEqual(afterDocs[0], m.values[0])) return m.text;
    const indent = m.json?.indent ?? '  ';
    const out = JSON.stringify(afterDocs[0], null, indent === '' ? undefined : indent) + (m.json?.trailingNewline ? '\n' : '');
    return usesCrlf(m.text) ? out.replaceAll('\n', '\r\n') : out;
  }
  const edits: Edit[] = [];
  const docs = m.docs ?? [];
  docs.forEach((d, i) => {
    if (deepEqual(m.values[i], afterDocs[i])) return;
    new YamlEditor(m.text, d, edits).document(afterDocs[i], m.values[i]);
  });
  if (usesCrlf(m.text)) for (const e of edits) e.text = e.text.replace(/\r?\n/g, '\r\n');
  return applyEdits(m.text, edits);
}

/** Windows line ends: new text gets them too. */
function usesCrlf(text: string): boolean {
  const nl = text.indexOf('\n');
  return nl > 0 && text[nl - 1] === '\r';
}

/** Applies a JSON Patch to one object of the manifest and returns the new text (see renderManifest). */
export function patchManifest(m: Manifest, ref: ObjectRef, ops: readonly JsonPatchOp[]): string {
  let before: unknown = m.values[ref.doc];
  for (const t of ref.path) before = (before as Record<string | number, unknown>)[t];
  return renderManifest(m, [{ ref, after: applyPatch(before, ops) }]);
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(text: string, edits: Edit[]): string {
  // Stable sort: equal starts keep the order they were made in (document order).
  const sorted = edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.start - b.e.start || a.i - b.i);
  let out = '';
  let cursor = 0;
  for (const { e } of sorted) {
    if (e.start < cursor) throw new Error(`internal: overlapping manifest edits at ${e.start}`);
    out += text.slice(cursor, e.start) + e.text;
    cursor = e.end;
  }
  return out + text.slice(cursor);
}

/**
 * New text is rendered for YAML 1.1 readers too (go-yaml, PyYAML): strings
 * such as "yes", "on" or an all-digit MAC like 12:34:56:00:00:10 (a base-60
 * number in YAML 1.1) come out quoted, which YAML 1.2 reads the same way.
 */
const RENDER_VERSION = '1.1';

type Slot =
  | { kind: 'pair'; pair: Pair<ParsedNode, ParsedNode | null> }
  | { kind: 'item'; node: ParsedNode }
  | { kind: 'root'; node: ParsedNode | null };

/** The layout of one YAML document, learnt from its own nesting: indentation step and whether lists are indented under their key. */
interface Style {
  indent: number;
  indentSeq: boolean;
}

class YamlEditor {
  private readonly style: Style;

  private readonly text: string;
  private readonly doc: Document.Parsed;
  private readonly edits: Edit[];

  constructor(text: string, doc: Document.Parsed, edits: Edit[]) {
    this.text = text;
    this.doc = doc;
    this.edits = edits;
    this.style = this.learnStyle();
  }

  document(after: unknown, before: unknown): void {
    this.value(this.doc.contents, before, after, { kind: 'root', node: this.doc.contents });
  }

  // --- positions

  private col(pos: number): number {
    return pos - (this.text.lastIndexOf('\n', pos - 1) + 1);
  }

  private lineStart(pos: number): number {
    return this.text.lastIndexOf('\n', pos - 1) + 1;
  }

  /** The position after the end of the line pos is on (pos itself when it starts a line). */
  private lineEnd(pos: number): number {
    if (pos > 0 && this.text[pos - 1] === '\n') return pos;
    const nl = this.text.indexOf('\n', pos);
    return nl < 0 ? this.text.length : nl + 1;
  }

  private onlySpaceBefore(pos: number): boolean {
    return /^[ \t]*$/.test(this.text.slice(this.lineStart(pos), pos));
  }

  /** The position of the "- " indicator of a block sequence item. */
  private dashOf(item: ParsedNode): number {
    let p = item.range[0] - 1;
    while (p >= 0 && /[ \t\r\n]/.test(this.text[p])) p--;
    if (this.text[p] !== '-') throw new Error('internal: no "-" before a block sequence item');
    return p;
  }

  private pairEnd(pair: Pair<ParsedNode, ParsedNode | null>): number {
    const v = pair.value;
    return Math.max(pair.key.range[1], v ? v.range[1] : 0);
  }

  /** Text to insert at a line start: every line of rendered (ending in \n) indented by col. */
  private block(rendered: string, col: number): string {
    const pad = ' '.repeat(col);
    return rendered
      .split('\n')
      .map((l, i, a) => (i === a.length - 1 || l === '' ? l : pad + l))
      .join('\n');
  }

  /** An insertion at `at`, which is a line start except at the end of a file without a final newline. */
  private insert(at: number, text: string): void {
    this.push(at, at, at > 0 && this.text[at - 1] !== '\n' ? '\n' + text : text);
  }

  /** rendered's first line as is (it continues a line), the following lines indented by col. */
  private tail(rendered: string, col: number): string {
    const pad = ' '.repeat(col);
    return rendered
      .split('\n')
      .map((l, i, a) => (i === 0 || i === a.length - 1 || l === '' ? l : pad + l))
      .join('\n');
  }

  private render(value: unknown): string {
    return stringify(value, { lineWidth: 0, indent: this.style.indent, indentSeq: this.style.indentSeq, version: RENDER_VERSION });
  }

  private push(start: number, end: number, text: string): void {
    this.edits.push({ start, end, text });
  }

  private learnStyle(): Style {
    let indent: number | undefined;
    let indentSeq: boolean | undefined;
    const walk = (n: unknown) => {
      if (indent !== undefined && indentSeq !== undefined) return;
      if (isMap(n)) {
        for (const p of n.items) {
          const k = p.key as ParsedNode | null;
          const v = p.value as ParsedNode | null;
          if (k && v && isMap(v) && !v.flow && v.items.length > 0 && indent === undefined) {
            const d = this.col(v.range[0]) - this.col(k.range[0]);
            if (d > 0 && this.onlySpaceBefore(v.range[0])) indent = d;
          }
          if (k && v && isSeq(v) && !v.flow && v.items.length > 0 && indentSeq === undefined) {
            const dash = this.dashOf(v.items[0] as ParsedNode);
            indentSeq = this.col(dash) > this.col(k.range[0]);
          }
          walk(v);
        }
      } else if (isSeq(n)) {
        for (const i of n.items) walk(i);
      }
    };
    walk(this.doc.contents);
    return { indent: indent ?? 2, indentSeq: indentSeq ?? false };
  }

  // --- diffing

  private value(node: ParsedNode | null, before: unknown, after: unknown, slot: Slot): void {
    if (deepEqual(before, after)) return;
    if (node && isScalar(node) && !(typeof before === 'object' && before !== null) && !(typeof after === 'object' && after !== null) && node.source !== '') {
      this.scalar(node, after, slot);
      return;
    }
    if (node && isMap(node) && isPlainObject(before) && isPlainObject(after) && Object.keys(after).length > 0) {
      if (!node.flow) {
        this.map(node as YAMLMap<ParsedNode, ParsedNode | null>, before, after, slot);
        return;
      }
      if (node.items.length > 0) {
        this.flow(node, after);
        return;
      }
    }
    if (node && isSeq(node) && Array.isArray(before) && Array.isArray(after) && after.length > 0) {
      if (!node.flow) {
        this.seq(node as YAMLSeq<ParsedNode>, before, after, slot);
        return;
      }
      if (node.items.length > 0) {
        this.flow(node, after);
        return;
      }
    }
    this.replace(slot, after);
  }

  /** A flow collection that had items stays in flow style, rewritten as a whole. */
  private flow(node: ParsedNode, after: unknown): void {
    const d = new Document(after, { version: RENDER_VERSION });
    if (isMap(d.contents) || isSeq(d.contents)) d.contents.flow = true;
    this.push(node.range[0], node.range[1], d.toString({ lineWidth: 0 }).replace(/\n$/, ''));
  }

  private scalar(node: Scalar & ParsedNode, after: unknown, slot: Slot): void {
    const d = new Document({ k: null }, { version: RENDER_VERSION });
    const s = d.createNode(after) as Scalar;
    if (typeof after === 'string' && node.type) s.type = node.type;
    (d.contents as YAMLMap).items[0].value = s;
    const rendered = d.toString({ lineWidth: 0, indent: this.style.indent }).slice('k: '.length);
    const block = (t: string | undefined) => t === 'BLOCK_LITERAL' || t === 'BLOCK_FOLDED';
    const parentCol = slot.kind === 'pair' ? this.col(slot.pair.key.range[0]) : slot.kind === 'item' ? this.col(this.dashOf(node)) : 0;
    const text = this.tail(rendered, parentCol);
    if (block(node.type) || rendered.startsWith('|') || rendered.startsWith('>')) {
      // A block scalar ends with its line: replace through the line end (a comment after a plain value goes with it).
      this.push(node.range[0], this.lineEnd(node.range[1]), text);
      return;
    }
    this.push(node.range[0], node.range[1], text.replace(/\n$/, ''));
  }

  /** Rewrites the whole slot (key and value, or the "- " item) in block style. */
  private replace(slot: Slot, after: unknown): void {
    if (slot.kind === 'root') {
      const n = slot.node;
      const start = n ? n.range[0] : 0;
      const end = n ? this.lineEnd(n.range[1]) : this.text.length;
      this.push(start, end, this.render(after));
      return;
    }
    if (slot.kind === 'pair') {
      const key = slot.pair.key;
      const col = this.col(key.range[0]);
      const keySrc = this.text.slice(key.range[0], key.range[1]);
      const rendered = this.render({ k: after }).slice(1); // ": value\n" or ":\n  ..."
      this.push(key.range[0], this.lineEnd(this.pairEnd(slot.pair)), keySrc + this.tail(rendered, col));
      return;
    }
    const dash = this.dashOf(slot.node);
    this.push(dash, this.lineEnd(slot.node.range[1]), this.tail(this.render([after]), this.col(dash)));
  }

  private map(node: YAMLMap<ParsedNode, ParsedNode | null>, before: Record<string, unknown>, after: Record<string, unknown>, slot: Slot): void {
    const pairs = node.items.filter((p) => p.key && isScalar(p.key));
    if (pairs.length !== node.items.length) {
      this.replace(slot, after);
      return;
    }
    const keyOf = (p: Pair<ParsedNode, ParsedNode | null>) => String((p.key as Scalar).value);
    const kept = pairs.filter((p) => Object.hasOwn(after, keyOf(p)));
    if (kept.length === 0) {
      this.replace(slot, after);
      return;
    }
    pairs.forEach((p, i) => {
      const k = keyOf(p);
      if (!Object.hasOwn(after, k)) {
        const start = p.key.range[0];
        if (this.onlySpaceBefore(start)) {
          this.push(this.lineStart(start), this.lineEnd(this.pairEnd(p)), '');
        } else {
          // "- key: v" with more keys below: drop up to the next key, keeping the "- ".
          const next = pairs[i + 1];
          if (!next) return this.replace(slot, after);
          this.push(start, next.key.range[0], '');
        }
        return;
      }
      this.value(p.value, before[k], after[k], { kind: 'pair', pair: p });
    });
    const added = Object.keys(after).filter((k) => !Object.hasOwn(before, k));
    if (added.length === 0) return;
    const last = pairs[pairs.length - 1];
    const at = this.lineEnd(this.pairEnd(last));
    const fresh: Record<string, unknown> = {};
    for (const k of added) fresh[k] = after[k];
    this.insert(at, this.block(this.render(fresh), this.col(last.key.range[0])));
  }

  private seq(node: YAMLSeq<ParsedNode>, before: unknown[], after: unknown[], slot: Slot): void {
    const items = node.items;
    if (items.length !== before.length || items.some((i) => !i)) {
      this.replace(slot, after);
      return;
    }
    let p = 0;
    while (p < before.length && p < after.length && deepEqual(before[p], after[p])) p++;
    let s = 0;
    while (s < before.length - p && s < after.length - p && deepEqual(before[before.length - 1 - s], after[after.length - 1 - s])) s++;
    const oldMid = before.length - p - s;
    const newMid = after.slice(p, after.length - s);
    if (oldMid === newMid.length) {
      for (let i = 0; i < oldMid; i++) this.value(items[p + i], before[p + i], after[p + i], { kind: 'item', node: items[p + i] });
      return;
    }
    const col = this.col(this.dashOf(items[0]));
    const rendered = newMid.length > 0 ? this.block(this.render(newMid), col) : '';
    if (oldMid > 0) {
      const dash = this.dashOf(items[p]);
      const start = this.onlySpaceBefore(dash) ? this.lineStart(dash) : dash;
      const end = this.lineEnd(items[p + oldMid - 1].range[1]);
      this.push(start, end, start === dash ? rendered.trimStart() : rendered);
    } else if (p < items.length) {
      this.insert(this.lineStart(this.dashOf(items[p])), rendered);
    } else {
      this.insert(this.lineEnd(items[items.length - 1].range[1]), rendered);
    }
  }
}
