// Bundles the built CLI (dist/, package.json, oclif.manifest.json) into two
// CommonJS scripts for the single executables:
//   kubectl-vnet.cjs  oclif, the commands and everything they import at start-up
//   kubelib.cjs       @kubernetes/client-node, loaded by kubelib-loader.cjs only
//                     when a command connects to a cluster
// Every command registered in src/commands.ts at build time is in the bundle
// (dist/commands.js is the entry of the command map).
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Redirects `import('@kubernetes/client-node')` to the lazy asset loader. */
const kubelibPlugin = {
  name: 'kubelib',
  setup(b) {
    b.onResolve({ filter: /^@kubernetes\/client-node$/ }, () => ({ path: 'kubelib', namespace: 'kubelib' }));
    b.onLoad({ filter: /.*/, namespace: 'kubelib' }, () => ({
      contents: `module.exports = require(${JSON.stringify(path.join(root, 'scripts', 'kubelib-loader.cjs'))}).loadKubeLib();`,
      loader: 'js',
      resolveDir: root,
    }));
  },
};

/**
 * client-node's modules are declarations (classes, functions): marking them
 * side-effect free lets esbuild drop the generated API clients and models
 * that KubeConfig does not reach (2 MB of 2.9 MB).
 */
const clientNodeSideEffectFree = {
  name: 'client-node-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.inner) return undefined;
      const res = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { inner: true } });
      if (res.errors.length > 0) return undefined; // let esbuild report it (or tolerate an optional require)
      if (res.path.includes(`${path.sep}node_modules${path.sep}@kubernetes${path.sep}client-node${path.sep}`)) return { ...res, sideEffects: false };
      return res;
    });
  },
};

/**
 * Modules that are loaded at start-up but used later if at all, replaced by a
 * module of getters that loads the real one on first use:
 * - CommonJS packages that client-node needs only for proxies and fetch
 *   (undici is 700 kB whose top level costs tens of milliseconds);
 * - node:crypto (about 10 ms to load; the CLI hashes only when it edits),
 *   yaml and cli-table3 (only for some output);
 * - what oclif loads for help, error formatting, spinners, JSON colouring
 *   and plugin discovery (its command and root help, plugin-loader, ts-path,
 *   spinner and colorize-json modules; globs, minimatch, lilconfig, ejs, the
 *   package-type probe; node:fs/promises, node:perf_hooks, node:readline),
 *   which a command that needs none of it then never evaluates; and
 *   `debug`, which src/standalone.ts's quiet logger spares unless DEBUG is set.
 * Each is resolved from the module that requires it, so a nested copy of a
 * package keeps its own version. A package whose module.exports is a
 * function or class gets a stand-in function that calls or constructs the
 * real one. A module whose importer uses it at its own top level is loaded
 * then, which is correct and merely gains nothing. test/cli/krew.test.ts
 * compares the packaged help and errors with the npm-installed CLI's.
 */
const LAZY = [
  'undici', 'socks', 'socks-proxy-agent', 'hpagent', 'node:crypto', 'crypto', 'yaml', 'cli-table3',
  'wrap-ansi', 'string-width', 'widest-line', 'indent-string', 'clean-stack', 'ansi-escapes', 'cli-spinners',
  'ejs', 'tinyglobby', 'minimatch', 'lilconfig', 'get-package-type', 'node:fs/promises', 'node:perf_hooks', 'node:readline',
  'debug',
];
/** oclif's own modules (paths under @oclif/core/lib) that are loaded lazily. */
const LAZY_OCLIF = ['help/command.js', 'help/root.js', 'help/docopts.js', 'config/plugin-loader.js', 'config/ts-path.js', 'ux/action/spinner.js', 'ux/colorize-json.js', 'parser/help.js'];
const oclifLib = path.join(root, 'node_modules', '@oclif', 'core', 'lib') + path.sep;
const lazyPackages = {
  name: 'lazy-packages',
  setup(b) {
    const filter = new RegExp(`^(${LAZY.map((m) => m.replace(/[-/:]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => {
      if (args.namespace === 'lazy') return undefined;
      if (isBuiltin(args.path)) return { path: args.path, namespace: 'lazy' };
      const req = createRequire(args.importer || path.join(root, 'package.json'));
      return { path: req.resolve(args.path), namespace: 'lazy' };
    });
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.namespace === 'lazy' || !args.importer.startsWith(oclifLib)) return undefined;
      let target;
      try {
        target = createRequire(args.importer).resolve(args.path);
      } catch {
        return undefined;
      }
      return LAZY_OCLIF.includes(target.slice(oclifLib.length).split(path.sep).join('/')) ? { path: target, namespace: 'lazy' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => {
      const target = args.path;
      const mod = createRequire(path.join(root, 'package.json'))(target);
      const names = Object.keys(mod).filter((k) => k !== '__esModule');
      const fn = typeof mod === 'function';
      // An ES module whose default export is a function: an ES module importer that esbuild treats in
      // Node's way takes module.exports as that default (log-update's `import wrapAnsi from 'wrap-ansi'`).
      const esmDefaultFn = !fn && mod[Symbol.toStringTag] === 'Module' && typeof mod.default === 'function';
      const head = fn
        ? 'function Lazy(...a) { return new.target ? Reflect.construct(real(), a) : Reflect.apply(real(), this, a); }\nmodule.exports = Lazy;\nconst out = Lazy;'
        : esmDefaultFn
          ? 'function Lazy(...a) { const f = real().default; return new.target ? Reflect.construct(f, a) : Reflect.apply(f, this, a); }\nmodule.exports = Lazy;\nconst out = Lazy;'
          : 'const out = exports;';
      const esm = mod.__esModule ? "Object.defineProperty(out, '__esModule', { value: true });" : '';
      const getters = names.map((k) => `Object.defineProperty(out, ${JSON.stringify(k)}, { enumerable: true, get: () => real()[${JSON.stringify(k)}] });`);
      return {
        contents: `let m; const real = () => (m ??= require(${JSON.stringify(target)}));\n${head}\n${esm}\n${getters.join('\n')}\n`,
        loader: 'js',
        resolveDir: root,
      };
    });
  },
};

/**
 * The names the built CLI takes from @kubernetes/client-node (dist/ is
 * scanned, so whatever a command imports at build time is in kubelib.cjs);
 * a namespace import falls back to the whole library.
 */
export function clientNodeNames() {
  const names = new Set();
  let whole = false;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (f.endsWith('.js')) {
        const src = readFileSync(f, 'utf8');
        if (!src.includes('@kubernetes/client-node')) continue;
        const named = [
          ...src.matchAll(/\{([^{}]*)\}\s*=\s*await\s+import\(\s*['"]@kubernetes\/client-node['"]\s*\)/g),
          ...src.matchAll(/import\s*\{([^{}]*)\}\s*from\s*['"]@kubernetes\/client-node['"]/g),
        ];
        for (const m of named) for (const n of m[1].split(',')) if (n.trim()) names.add(n.trim().split(/\s*(?::|\bas\b)\s*/)[0]);
        // Imports only: a comment that names the library is not a use of it.
        const all = [...src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]@kubernetes\/client-node['"]/g)].length;
        if (all > named.length) whole = true;
      }
    }
  };
  walk(path.join(root, 'dist'));
  return whole ? null : [...names].sort();
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // client-node and its dependencies mention optional modules they never load here.
  logOverride: { 'empty-import-meta': 'silent', 'require-resolve-not-external': 'silent' },
};

export async function bundle(outDir = path.join(root, 'release', 'build'), { minify = true } = {}) {
  mkdirSync(outDir, { recursive: true });
  const main = path.join(outDir, 'kubectl-vnet.cjs');
  const kubelib = path.join(outDir, 'kubelib.cjs');
  await build({
    ...common,
    minify,
    entryPoints: [path.join(root, 'scripts', 'sea-entry.mjs')],
    outfile: main,
    plugins: [kubelibPlugin, lazyPackages],
  });
  const names = clientNodeNames();
  await build({
    ...common,
    stdin: {
      contents: names ? `export { ${names.join(', ')} } from '@kubernetes/client-node';` : "export * from '@kubernetes/client-node';",
      resolveDir: root,
      sourcefile: 'kubelib-entry.mjs',
    },
    outfile: kubelib,
    plugins: names ? [lazyPackages, clientNodeSideEffectFree] : [lazyPackages],
  });
  return { main, kubelib, clientNodeNames: names };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await bundle(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`bundled ${path.relative(root, out.main)} and ${path.relative(root, out.kubelib)}`);
}
