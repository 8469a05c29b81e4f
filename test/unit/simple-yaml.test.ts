// readSimpleYaml against the `yaml` package: whenever the fast reader returns
// a value, it must be what yaml.parse returns for the same text; outside its
// subset it must return undefined (the caller then uses the full parser).
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readSimpleYaml } from '../../src/kube/simple-yaml.js';

/** yaml.parse, or the first line of its error. */
function full(text: string): { value?: unknown; error?: string } {
  try {
    return { value: parse(text) };
  } catch (err) {
    return { error: String((err as Error).message).split('\n')[0] };
  }
}

/** The reader returns a value, and it is yaml.parse's. */
function expectSame(text: string): void {
  const oracle = full(text);
  expect(oracle.error, `yaml.parse refused the fixture itself:\n${text}`).toBeUndefined();
  const got = readSimpleYaml(text);
  expect(got, `readSimpleYaml gave up on:\n${text}`).not.toBeUndefined();
  expect(got, `readSimpleYaml differs from yaml.parse on:\n${text}`).toStrictEqual(oracle.value);
}

const CA = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnkK'.repeat(12);

const KUBECTL_STYLE = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${CA}
    server: https://127.0.0.1:6443
  name: kind-kind
- cluster:
    insecure-skip-tls-verify: true
    server: https://api.example.com
    tls-server-name: api.internal
  name: prod
contexts:
- context:
    cluster: kind-kind
    namespace: team-a
    user: kind-kind
  name: kind-kind
- context:
    cluster: prod
    user: admin
  name: prod
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    client-certificate-data: ${CA}
    client-key-data: ${CA}
- name: admin
  user:
    token: eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl
- name: oidc
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - oidc-login
      - get-token
      - --oidc-issuer-url=https://issuer.example.com
      command: kubectl
      env: null
      interactiveMode: IfAvailable
      provideClusterInfo: false
`;

const STRINGIFY_STYLE = `apiVersion: v1
kind: Config
clusters:
  - name: vnet-sandbox
    cluster:
      server: https://127.0.0.1:38939
      certificate-authority-data: ${CA}
users:
  - name: admin
    user:
      token: 39a5edac26d723340075a1b2c3d4e5f6
      as: alice
      as-groups:
        - system:masters
        - team-a
contexts:
  - name: vnet-sandbox-admin
    context:
      cluster: vnet-sandbox
      user: admin
      namespace: default
current-context: vnet-sandbox-admin
`;

describe('readSimpleYaml on kubeconfigs as tools write them', () => {
  it('reads the kubectl/client-go style (sequences at the indentation of their key)', () => expectSame(KUBECTL_STYLE));

  it("reads the yaml package's stringify style (indented sequences)", () => {
    expectSame(STRINGIFY_STYLE);
    // the fixture is indeed what the package writes for that document
    expect(stringify(parse(STRINGIFY_STYLE), { lineWidth: 0 })).toBe(STRINGIFY_STYLE);
  });

  it('reads whole-line, indented and trailing comments', () =>
    expectSame(`# written by hand
apiVersion: v1 # trailing
kind: Config
clusters: # the clusters
# a comment at column 0 inside the list
- name: a # name
      # a deeper comment line
  cluster:
    server: https://a.example:6443   # with spaces before
  # a comment at the mapping's indentation
    insecure-skip-tls-verify: false #no space after the hash
users:
  - name: u
    user: {} # empty
contexts: []   # none
#   last line
`));

  it('reads CRLF line endings', () => {
    expectSame(KUBECTL_STYLE.replaceAll('\n', '\r\n'));
    expectSame('a: "quoted"\r\nb: \'single\'\r\nc:\r\n- x # c\r\n- \r\n');
  });

  it('reads a byte order mark', () => {
    expectSame(`\uFEFF${STRINGIFY_STYLE}`);
    expectSame('\uFEFF---\r\napiVersion: v1\r\n');
  });

  it('reads a leading document marker, with or without a comment', () => {
    expectSame(`---\n${KUBECTL_STYLE}`);
    expectSame(`--- # kubeconfig\n${STRINGIFY_STYLE}`);
    expectSame('# header comment\n---\nkind: Config\n');
  });

  it('reads single-quoted values', () =>
    expectSame(`users:
- name: 'it''s me'
  user:
    password: 'p@ss: #word'
    username: ''
    token: '   spaced   '
    'quoted key': '"double" inside'
    'a\\b': 'no escapes \\n here'
`));

  it('reads double-quoted values with escapes', () =>
    expectSame(`users:
- name: "caf\\u00e9"
  user:
    password: "line1\\nline2\\t\\"quoted\\" \\\\ back"
    username: "\\x41\\U0001F600 \\/ \\0 \\e \\a \\b \\f \\v \\r \\ end"
    token: "   spaced   "
    "quoted: key": "#not a comment"
    empty: ""
`));

  it('reads values containing ":" (URLs, Windows paths, IPv6, times)', () =>
    expectSame(`clusters:
- cluster:
    server: https://[fd00::1]:6443/prefix?x=1&y=a:b
    certificate-authority: C:\\Users\\me\\.kube\\ca.crt
    proxy-url: socks5://user:pw@proxy:1080
  name: a:b:c
users:
- name: win
  user:
    client-key: C:\\x
    tokenFile: D:/tokens/t
    at: 12:30:45
    arn: arn:aws:eks:eu-west-1:123456789012:cluster/prod
`));

  it('reads "#" inside a value when no space precedes it', () =>
    expectSame(`a: b#c
b: http://host/#fragment
c: '#quoted'
d: "# dq"
e: x # but this is a comment
f: pass#word#
`));

  it('reads empty values as null, and {} and []', () =>
    expectSame(`preferences: {}
extensions: []
clusters:
users:
contexts: # nothing
current-context:
list:
-
- # commented
- {}
- []
- ~
`));

  it('reads booleans, integers, floats and nulls by the core schema', () =>
    expectSame(`t1: true
t2: True
t3: TRUE
f1: false
f2: False
f3: FALSE
n1: null
n2: Null
n3: NULL
n4: ~
i1: 0
i2: -17
i3: +42
i4: 007
i5: 9007199254740991
fl1: 1.5
fl2: -0.25
fl3: .5
fl4: 1.
fl5: 1e3
fl6: -2.5E-3
fl7: +1.0e+2
s1: yes
s2: no
s3: on
s4: off
s5: nULL
s6: tRUE
s7: 1_000
s8: 0b101
s9: 1.2.3
s10: 0O17
s11: -0x1F
`));

  it('reads a long base64 plain scalar in one piece', () => {
    const long = Buffer.from('x'.repeat(6000)).toString('base64');
    expectSame(`users:\n- name: u\n  user:\n    client-key-data: ${long}\n`);
    expect((readSimpleYaml(`k: ${long}\n`) as { k: string }).k).toHaveLength(long.length);
  });

  it('reads tokens that look like numbers or booleans the way yaml does (numbers stay numbers)', () => {
    expectSame('users:\n- name: u\n  user:\n    token: 123456789\n    password: "123456789"\n    username: true\n');
    expect(readSimpleYaml('token: 123456789\n')).toStrictEqual({ token: 123456789 });
    expect(readSimpleYaml("token: '123456789'\n")).toStrictEqual({ token: '123456789' });
  });

  it('reads plain keys with spaces, dots, slashes and inner punctuation', () =>
    expectSame(`key with spaces  : v
a.b/c~d: 1
-dash: 2
a,b: 3
a[0]: 4
it's: 5
say "hi": 6
`));

  it('reads an empty text or a text of comments as null', () => {
    for (const text of ['', '\n\n', '# only a comment\n', '---\n', '\uFEFF']) expectSame(text);
  });
});

describe('readSimpleYaml outside its subset gives undefined', () => {
  const outside: [string, string][] = [
    ['an anchor and alias', 'a: &x 1\nb: *x\n'],
    ['an anchor on a mapping', 'a: &x\n  b: 1\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a local tag', 'a: !secret x\n'],
    ['a literal block scalar', 'a: |\n  line1\n  line2\n'],
    ['a folded block scalar', 'a: >-\n  line1\n  line2\n'],
    ['a block scalar in a sequence', '- |\n  x\n'],
    ['a multi-line plain scalar', 'a: first\n  second\n'],
    ['a multi-line plain scalar in a sequence', '- x\n  - y\n'],
    ['a multi-line double-quoted scalar', 'a: "first\n  second"\n'],
    ['a multi-line single-quoted scalar', "a: 'first\n  second'\n"],
    ['a flow sequence with content', 'args: ["a", "b"]\n'],
    ['a flow sequence with a space inside', 'a: [ ]\n'],
    ['a flow mapping with content', 'a: {x: 1}\n'],
    ['a top-level flow mapping', '{a: 1}\n'],
    ['tabs as indentation', 'a:\n\tb: 1\n'],
    ['a tab after the indentation', 'a:\n  \tb: 1\n'],
    ['several documents', 'a: 1\n---\nb: 2\n'],
    ['a document end marker', 'a: 1\n...\n'],
    ['a directive', '%YAML 1.2\n---\na: 1\n'],
    ['content after the document marker', '--- {}\n'],
    ['duplicate keys', 'a: 1\na: 2\n'],
    ['duplicate keys in a sequence item', '- name: x\n  name: y\n'],
    ['duplicate keys, one quoted', 'a: 1\n"a": 2\n'],
    ['a merge key', 'base: {}\nx:\n  <<: {}\n'],
    ['a quoted merge key', '"<<": 1\n'],
    ['an integer key', '1: x\n'],
    ['a boolean key', 'true: x\n'],
    ['a null key', '~: x\n'],
    ['a float key', '1.5: x\n'],
    ['a hexadecimal number', 'a: 0x1F\n'],
    ['an octal number', 'a: 0o17\n'],
    ['infinity', 'a: .inf\n'],
    ['not a number', 'a: .NaN\n'],
    ['an integer beyond 2^53', 'a: 9007199254740993\n'],
    ['an explicit key', '? a\n: b\n'],
    ['a nested sequence on one line', '- - x\n'],
    ['a nested mapping on one line', 'a: b: c\n'],
    ['a scalar document', 'just text\n'],
    ['a double-quoted escape outside the subset', 'a: "\\N"\n'],
    ['a lone surrogate escape', 'a: "\\ud800"\n'],
    ['two quoted scalars', "a: 'x' 'y'\n"],
    ['an unterminated quote', 'a: "open\n'],
    ['a reserved indicator', 'a: @x\n'],
    ['a mapping entry at an inconsistent indentation', 'a:\n    b: 1\n  c: 2\n'],
    ['a __proto__ key', '__proto__: {}\n'],
  ];
  it.each(outside)('%s', (_what, text) => {
    expect(readSimpleYaml(text), text).toBeUndefined();
  });

  it('every "outside" case is one yaml.parse either reads or refuses (the fixtures are meaningful)', () => {
    // Guard against fixtures that are outside the subset only by accident of
    // a typo: most must be valid YAML the full parser reads.
    const valid = (t: string) => {
      try {
        parse(t, { logLevel: 'error' }); // errors still throw; "!secret" (an unknown tag) is only a warning, not printed
        return true;
      } catch {
        return false;
      }
    };
    const read = outside.filter(([, t]) => valid(t)).length;
    expect(read).toBeGreaterThan(outside.length / 2);
  });
});

/** mulberry32: a small seeded PRNG, so every failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Characters a kubeconfig string may hold. Unicode white space that YAML does
// not count as white space (U+00A0, U+3000, U+FEFF, \v, \f, U+2028, ...) is
// left out here: it is covered by the targeted tests below.
const CHARS = [
  ...'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789',
  ...'     ',
  ...`'"'":::##---..//\\\\,[]{}&*!|>%@\`?~=+_`,
  'é', 'ü', 'ß', '日', '本', '😀', 'Ω', '\u0085',
];
// Strings whose YAML form is inside the reader's subset (numeric- or
// bool-looking strings come out quoted), and values that yaml.stringify
// writes in a form outside it (block scalars, .nan/.inf, integers beyond
// 2^53, "<<" keys, nested sequences): the latter appear only in "wide"
// documents, so that most documents exercise the fast path and the rest the
// give-up path.
const SPECIAL = [
  'true', 'False', 'TRUE', 'null', 'Null', '~', '', ' ', '123', '-7', '+1', '007', '1.5', '.5', '1e5', '-0', '1_000', 'yes', 'on', 'no', '2024-01-01', '12:30',
  'a: b', 'a:b', '- x', '-x', '# c', 'a #b', 'a#b', 'http://host:6443/x#y', 'C:\\path\\x', '?', '? x', ':', '- ', "it's", '"q"', "'s'", ' lead', 'trail ', '  both  ',
  '---', '...', '%x', '@x', '!x', '&x', '*x', '|', '>', '{}', '[]', '[a]', '{a: 1}', 'a\tb', 'é', '日本語', '😀', '0X1F', '0b11', '1.2.3', 'nULL',
  '0x1F', '0o17', '.inf', '-.Inf', '.nan', '9007199254740993', '1e400',
];
// "<<" is outside the subset as a key; a line break makes yaml write a block scalar.
const OUTSIDE = ['<<', 'line1\nline2', 'trailing newline\n'];
const KEYS = ['apiVersion', 'kind', 'clusters', 'users', 'contexts', 'name', 'cluster', 'user', 'context', 'server', 'token', 'tokenFile', 'namespace', 'as', 'as-groups',
  'certificate-authority-data', 'client-key', 'exec', 'args', 'env', 'command', 'extensions', 'preferences', 'current-context', 'insecure-skip-tls-verify'];

function generator(seed: number) {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)];
  /** Whether the document being built may hold forms outside the subset. */
  let wide = false;
  const randomString = (): string => {
    const r = rnd();
    if (wide && r < 0.05) return pick(OUTSIDE);
    if (r < 0.3) return pick(SPECIAL);
    if (r < 0.4) return Buffer.from(Array.from({ length: 40 + int(300) }, () => int(256))).toString('base64');
    let s = '';
    for (let i = int(12); i >= 0; i--) s += pick(CHARS);
    return s;
  };
  const scalar = (): unknown => {
    const r = rnd();
    if (r < 0.6) return randomString();
    if (r < 0.7) return int(2) === 0 ? int(100000) : -int(1000);
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: a number with digits to round-trip, not pi
    if (r < 0.78) return pick(wide ? [0.5, -1.25, 1e21, 3.14159, 1e-7, 100.0, -0, 2 ** 53 - 1, NaN, Infinity, 2 ** 60] : [0.5, -1.25, 1e21, 3.14159, 1e-7, 100.0, -0, 2 ** 53 - 1]);
    if (r < 0.9) return rnd() < 0.5;
    return null;
  };
  // A plain key holding ":" or "#" ("a:b: 1", "a#b: 1") is valid YAML the reader leaves to the full parser: only in wide documents.
  const key = (): string => {
    if (rnd() < 0.7) return pick(KEYS);
    const k = randomString();
    return wide || !/[:#]/.test(k) ? k : k.replace(/[:#]/g, '_');
  };
  const value = (depth: number, inSequence = false): unknown => {
    const r = rnd();
    if (depth > 4 || r < 0.45) return scalar();
    if (r < 0.75) return mapping(depth + 1);
    // yaml writes a sequence directly inside a sequence as "- - x", which the reader leaves to the full parser
    if (inSequence && !wide) return mapping(depth + 1);
    return Array.from({ length: int(4) }, () => value(depth + 1, true));
  };
  const mapping = (depth: number): Record<string, unknown> => {
    const m: Record<string, unknown> = {};
    for (let i = int(5); i >= 0; i--) {
      const k = key();
      if (k === '__proto__') continue;
      m[k] = value(depth);
    }
    return m;
  };
  const named = (inner: string) => Array.from({ length: int(3) }, () => ({ name: randomString(), [inner]: mapping(2) }));
  return (): Record<string, unknown> => {
    wide = rnd() < 0.2;
    const doc: Record<string, unknown> = { apiVersion: 'v1', kind: 'Config', clusters: named('cluster'), users: named('user'), contexts: named('context') };
    if (rnd() < 0.7) doc['current-context'] = randomString();
    if (rnd() < 0.5) Object.assign(doc, mapping(1));
    return doc;
  };
}

const STYLES = {
  default: { lineWidth: 0 },
  'indentSeq: false': { lineWidth: 0, indentSeq: false },
  QUOTE_DOUBLE: { lineWidth: 0, defaultStringType: 'QUOTE_DOUBLE' },
  QUOTE_SINGLE: { lineWidth: 0, defaultStringType: 'QUOTE_SINGLE' },
  'indent: 4, indentSeq: false': { lineWidth: 0, indent: 4, indentSeq: false },
} as const;

describe('readSimpleYaml against yaml.parse on random kubeconfig-like documents', () => {
  const CASES = 400;
  for (const [style, options] of Object.entries(STYLES)) {
    it(`style ${style}: undefined or yaml.parse's value, ${CASES} seeded cases`, () => {
      const seed = 0x5eed + style.length;
      const next = generator(seed);
      let read = 0;
      for (let i = 0; i < CASES; i++) {
        const doc = next();
        let text = stringify(doc, options as never);
        // every fourth case with CRLF line endings, as a Windows editor saves it
        if (i % 4 === 3) text = text.replaceAll('\n', '\r\n');
        const oracle = full(text);
        const got = readSimpleYaml(text);
        const where = `style ${style}, seed ${seed}, case ${i}; text:\n${text}`;
        expect(oracle.error, `yaml refused its own output (${where})`).toBeUndefined();
        if (got === undefined) continue;
        read++;
        expect(got, `readSimpleYaml differs from yaml.parse (${where})`).toStrictEqual(oracle.value);
      }
      // The fast path must carry the plain styles; quoted-everything styles may fall back more often.
      if (style === 'default' || style === 'indentSeq: false') expect(read, `only ${read} of ${CASES} read`).toBeGreaterThan(CASES * 0.6);
      else expect(read, `only ${read} of ${CASES} read`).toBeGreaterThan(0);
    });
  }
});

// Bugs found by review and fixed; each test failed before the fix.
describe('white space and comments as YAML defines them', () => {
  // 1: String.prototype.trim/trimStart/trimEnd also strip Unicode white
  // space (U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+3000, U+FEFF, \v,
  // \f), which YAML keeps inside a plain scalar: the reader returned a wrong
  // value. yaml.stringify writes such strings plain (e.g.
  // stringify({ a: '\u00a0x' }) === 'a: \u00a0x\n'), so a stringified
  // kubeconfig came back altered. The reader now trims space and tab only.
  const unicodeSpace: [string, string][] = [
    ['a leading no-break space in a value', 'a: \u00a0x\n'],
    ['a trailing no-break space in a value', 'a: x\u00a0\n'],
    ['a leading ideographic space in a value', 'a: \u3000x\n'],
    ['a trailing zero-width no-break space in a value', 'a: x\uFEFF\n'],
    ['a trailing vertical tab in a value', 'a: x\v\n'],
    ['a leading no-break space in a sequence item', '- \u00a0x\n'],
    ['a trailing no-break space in a key', 'k\u00a0: v\n'],
  ];
  for (const [what, text] of unicodeSpace) {
    it(`${what} is kept as yaml keeps it (or the reader gives up): ${JSON.stringify(text)}`, () => {
      const got = readSimpleYaml(text);
      if (got !== undefined) expect(got).toStrictEqual(parse(text));
    });
  }

  it('the stringify round trip behind 1 is real: yaml writes such strings unquoted and reads them back whole', () => {
    const text = stringify({ a: '\u00a0x' });
    expect(text).toBe('a: \u00a0x\n');
    expect(parse(text)).toStrictEqual({ a: '\u00a0x' });
  });

  // 2: the reader accepted text that yaml.parse refuses, so the fast path
  // was wider than the full parser: a quoted scalar directly followed by "#"
  // (yaml: "Comments must be separated from other tokens by white space
  // characters"), and a tab after "- " used as indentation for the lines
  // that follow (yaml: "Tabs are not allowed as indentation").
  const invalid: [string, string][] = [
    ['a double-quoted value directly followed by #', 'a: "x"#c\n'],
    ['a single-quoted value directly followed by #', "a: 'x'#c\n"],
    ['a quoted sequence item directly followed by #', '- "x"#c\n'],
    ['a tab after the dash of a sequence item mapping', '- \ta: 1\n   b: 2\n'],
  ];
  for (const [what, text] of invalid) {
    it(`${what} is refused (undefined), as yaml.parse refuses it: ${JSON.stringify(text)}`, () => {
      expect(readSimpleYaml(text)).toBeUndefined();
    });
  }

  it('the premises of these tests hold (yaml keeps the white space, and refuses the invalid texts)', () => {
    // yaml reads the Unicode white space as part of the scalar...
    for (const [, text] of unicodeSpace) {
      const oracle = full(text);
      expect(oracle.error, JSON.stringify(text)).toBeUndefined();
      expect(JSON.stringify(oracle.value), JSON.stringify(text)).toMatch(/\\u000b|[\u00a0\u3000\ufeff]/);
    }
    // ...and refuses the invalid texts.
    for (const [, text] of invalid) expect(full(text).error, JSON.stringify(text)).toBeDefined();
  });
});

// Found in review and fixed; each returned a value (or took seconds) before.
describe('documents, line ends and sizes as the full parser has them', () => {
  it.each([
    ['two document markers', '---\n---\n'],
    ['a second marker after a comment', '---\n# c\n---\na: 1\n'],
    ['a lone CR at the very end', 'a: b\r'],
    ['a quoted value and a lone CR at the end', 'a: "b"\r'],
    ['an implicit key over 1024 characters', `${'k'.repeat(1025)}: v\n`],
  ])('%s is left to the full parser', (_what, text) => {
    expect(readSimpleYaml(text)).toBeUndefined();
  });

  it('CR LF line ends and a key of exactly 1024 characters are still read', () => {
    expect(readSimpleYaml('a: b\r\nc: d\r\n')).toStrictEqual({ a: 'b', c: 'd' });
    const key = 'k'.repeat(1024);
    expect(readSimpleYaml(`${key}: v\n`)).toStrictEqual(parse(`${key}: v\n`));
  });

  it('long runs of spaces inside a value take linear time', () => {
    const text = `a: x${' '.repeat(40_000)}y${' '.repeat(40_000)}\n`;
    const t0 = performance.now();
    const got = readSimpleYaml(text);
    expect(performance.now() - t0).toBeLessThan(1000); // quadratic trimming took 2.4 s here
    expect(got).toStrictEqual(parse(text));
  });
});

