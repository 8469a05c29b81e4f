/**
 * A reader for the YAML that kubeconfig files are written in: block mappings
 * and sequences (also "- key: value" entries), plain and quoted one-line
 * scalars, `{}` and `[]`, comments, and one document. It returns undefined
 * for anything else (anchors, tags, block or multi-line scalars, flow
 * collections with content, tabs in indentation, ...), and the caller then
 * uses the full parser (the `yaml` package). What it returns is what
 * `yaml.parse` returns for the same text (YAML 1.2 core schema); tests hold
 * the two side by side.
 *
 * Why: it reads a kubeconfig in a fraction of a millisecond, with no parser
 * library to load, which is a tenth of what `kubectl vnet status VM` spends
 * before it sends its first request.
 */

interface Line {
  indent: number;
  text: string;
}

/** YAML's limit on an implicit key (the `yaml` package and go-yaml refuse longer ones). */
const MAX_IMPLICIT_KEY = 1024;

/** Thrown inside the reader when the text leaves the subset; never escapes readSimpleYaml. */
class OutsideSubset extends Error {}

const fail = (): never => {
  throw new OutsideSubset();
};

export function readSimpleYaml(text: string): unknown {
  try {
    const lines = contentLines(text);
    if (lines.length === 0) return null;
    const reader = new Reader(lines);
    const value = reader.block(lines[0].indent);
    if (reader.pos !== lines.length) fail();
    return value;
  } catch (err) {
    if (err instanceof OutsideSubset) return undefined;
    throw err;
  }
}

/** The lines that carry content, with comment-only and blank lines removed and a leading `---` accepted. */
function contentLines(text: string): Line[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: Line[] = [];
  const raw = text.split('\n');
  let marker = false;
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i];
    // CR LF ends a line; a lone CR (also at the very end) is a line break to YAML too.
    if (line.endsWith('\r') && i < raw.length - 1) line = line.slice(0, -1);
    if (line.includes('\r')) fail();
    let indent = 0;
    while (indent < line.length && line[indent] === ' ') indent++;
    const rest = line.slice(indent);
    if (rest === '' || rest.startsWith('#')) continue;
    if (rest[0] === '\t') fail();
    if (/^(?:---|\.\.\.)(?:[ \t]|$)/.test(rest) || rest.startsWith('%')) {
      // One leading document marker with nothing after it; anything else (several documents, directives) is left to the full parser.
      if (rest.startsWith('---') && !marker && out.length === 0 && indent === 0 && stripComment(rest.slice(3)) === '') {
        marker = true;
        continue;
      }
      fail();
    }
    out.push({ indent, text: rest });
  }
  return out;
}

/** Removes a trailing comment (a `#` after white space) from text outside quotes. */
function stripComment(s: string): string {
  const m = /(^|[ \t])#/.exec(s);
  return trimEnd(m ? s.slice(0, m.index) : s);
}

// YAML's white space is space and tab only: String#trim would also take
// no-break spaces, U+3000, \v and the like, which YAML keeps in a scalar.
// (Loops, not /[ \t]+$/, which is quadratic on long runs of spaces.)
const isBlank = (c: string) => c === ' ' || c === '\t';
function trimStart(s: string): string {
  let i = 0;
  while (i < s.length && isBlank(s[i])) i++;
  return s.slice(i);
}
function trimEnd(s: string): string {
  let j = s.length;
  while (j > 0 && isBlank(s[j - 1])) j--;
  return s.slice(0, j);
}
const trim = (s: string) => trimEnd(trimStart(s));

const isSeqItem = (text: string) => text === '-' || text.startsWith('- ');

class Reader {
  pos = 0;
  constructor(private readonly lines: Line[]) {}

  private get cur(): Line | undefined {
    return this.lines[this.pos];
  }

  /** A block (mapping or sequence) whose lines start at `indent`. */
  block(indent: number): unknown {
    const line = this.cur ?? fail();
    if (line.indent !== indent) fail();
    return isSeqItem(line.text) ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): unknown[] {
    const items: unknown[] = [];
    for (let line = this.cur; line && line.indent === indent && isSeqItem(line.text); line = this.cur) {
      const rest = line.text.slice(1);
      const content = trimStart(rest);
      const lead = rest.length - content.length;
      if (rest.slice(0, lead).includes('\t')) fail(); // a tab would indent the entry's mapping
      if (content === '' || content.startsWith('#')) {
        this.pos++;
        items.push(this.nested(indent));
        continue;
      }
      if (isSeqItem(content)) fail(); // "- - x": left to the full parser
      if (keyOf(content) !== undefined) {
        // "- key: value": a mapping whose lines start where "key" does.
        const at = indent + 1 + lead;
        this.lines[this.pos] = { indent: at, text: content };
        items.push(this.mapping(at));
        continue;
      }
      this.pos++;
      items.push(scalar(content));
      this.noDeeperThan(indent);
    }
    const next = this.cur;
    if (next && next.indent > indent) fail();
    return items;
  }

  private mapping(indent: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (let line = this.cur; line && line.indent === indent && !isSeqItem(line.text); line = this.cur) {
      const kv = keyOf(line.text) ?? fail();
      if (Object.hasOwn(map, kv.key) || kv.key === '__proto__' || kv.key === '<<') fail();
      this.pos++;
      const rest = kv.rest;
      if (rest === '' || rest.startsWith('#')) {
        const next = this.cur;
        // A sequence may sit at the indentation of its key ("clusters:\n- name: x").
        if (next && next.indent === indent && isSeqItem(next.text)) map[kv.key] = this.sequence(indent);
        else map[kv.key] = this.nested(indent);
        continue;
      }
      map[kv.key] = scalar(rest);
      this.noDeeperThan(indent);
    }
    const next = this.cur;
    if (next && next.indent > indent) fail();
    return map;
  }

  /** The value of a key or item whose text was empty: a deeper block, or null. */
  private nested(indent: number): unknown {
    const next = this.cur;
    if (next && next.indent > indent) return this.block(next.indent);
    return null;
  }

  /** After a one-line value the next line may not be deeper (that would be a multi-line scalar). */
  private noDeeperThan(indent: number): void {
    const next = this.cur;
    if (next && next.indent > indent) fail();
  }
}

/** "key: rest" or "key:" at the start of text, or undefined when text is not a mapping entry. */
function keyOf(text: string): { key: string; rest: string } | undefined {
  let key: string;
  let after: number;
  if (text[0] === '"' || text[0] === "'") {
    const q = quoted(text);
    key = q.value;
    after = q.end;
  } else {
    const m = /^([^ \t:#'"[\]{},&*!|>%@`?-][^:#]*?|-[^ \t:#][^:#]*?)(?=:(?:[ \t]|$))/.exec(text);
    if (!m) return undefined;
    key = trimEnd(m[1]);
    if (resolvePlain(key) !== key) fail(); // a key such as `true:` or `1:`: left to the full parser
    after = m[1].length;
  }
  if (after > MAX_IMPLICIT_KEY) fail();
  if (text[after] !== ':') return undefined;
  const restRaw = text.slice(after + 1);
  if (restRaw !== '' && restRaw[0] !== ' ' && restRaw[0] !== '\t') return undefined;
  return { key, rest: trim(restRaw) };
}

/** A one-line value: a quoted or plain scalar, `{}` or `[]`. */
function scalar(text: string): unknown {
  const c = text[0];
  if (c === '"' || c === "'") {
    const q = quoted(text);
    const after = text.slice(q.end);
    // A comment after a quoted scalar needs white space before its `#`, as anywhere.
    if (after !== '' && after[0] !== ' ' && after[0] !== '\t') fail();
    if (stripComment(after) !== '') fail();
    return q.value;
  }
  const plain = stripComment(text);
  if (plain === '{}') return {};
  if (plain === '[]') return [];
  if (/^[[\]{},#&*!|>%@`]/.test(plain) || /^[?:-](?:[ \t]|$)/.test(plain)) fail();
  if (/:(?:[ \t]|$)/.test(plain)) fail(); // "a: b: c" is not one scalar
  return resolvePlain(plain);
}

/** The one-character escapes of double-quoted YAML scalars. */
const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f', e: '\u001b', a: '\u0007', v: '\v', ' ': ' ' };

/** A single- or double-quoted scalar at the start of text that closes on the same line. */
function quoted(text: string): { value: string; end: number } {
  if (text[0] === "'") {
    let out = '';
    for (let i = 1; i < text.length; i++) {
      if (text[i] === "'") {
        if (text[i + 1] === "'") {
          out += "'";
          i++;
          continue;
        }
        return { value: out, end: i + 1 };
      }
      out += text[i];
    }
    return fail();
  }
  let out = '';
  for (let i = 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') return { value: out, end: i + 1 };
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = text[++i];
    if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
      out += ESCAPES[e];
      continue;
    }
    const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    const hex = text.slice(i + 1, i + 1 + width);
    if (width === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) return fail();
    const code = parseInt(hex, 16);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return fail();
    out += String.fromCodePoint(code);
    i += width;
  }
  return fail();
}

/** A plain scalar by the YAML 1.2 core schema; forms the subset leaves to the full parser throw. */
function resolvePlain(s: string): unknown {
  if (s === '' || s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return null;
  if (s === 'true' || s === 'True' || s === 'TRUE') return true;
  if (s === 'false' || s === 'False' || s === 'FALSE') return false;
  if (/^[-+]?[0-9]+$/.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : fail();
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s)) return Number(s);
  // Octal, hexadecimal, infinities and NaN: rare in a kubeconfig, left to the full parser.
  if (/^(?:0o|0x)/.test(s) || /^[-+]?\.(?:inf|Inf|INF)$/.test(s) || /^\.(?:nan|NaN|NAN)$/.test(s)) fail();
  return s;
}
