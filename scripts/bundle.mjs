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
 * module of getters that loads the real one on first use: CommonJS packages
 * that client-node needs only for proxies and fetch (undici is 700 kB whose
 * top level costs tens of milliseconds), node:crypto (about 10 ms to load;
 * the CLI hashes only when it edits), yaml and cli-table3 (only for output).
 * A package whose module.exports is a function or class (cli-table3) gets a
 * stand-in function that calls or constructs the real one.
 */
const LAZY = ['undici', 'socks', 'socks-proxy-agent', 'hpagent', 'node:crypto', 'crypto', 'yaml', 'cli-table3'];
const lazyPackages = {
  name: 'lazy-packages',
  setup(b) {
    const req = createRequire(path.join(root, 'package.json'));
    const filter = new RegExp(`^(${LAZY.map((m) => m.replace(/[-/:]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => (args.namespace === 'lazy' ? undefined : { path: args.path, namespace: 'lazy' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => {
      const builtin = isBuiltin(args.path);
      const mod = req(args.path);
      const names = Object.keys(mod).filter((k) => k !== '__esModule' && k !== 'default');
      const target = builtin ? args.path : req.resolve(args.path);
      const fn = typeof mod === 'function';
      const head = fn
        ? 'function Lazy(...a) { return new.target ? Reflect.construct(real(), a) : Reflect.apply(real(), this, a); }\nmodule.exports = Lazy;\nconst out = Lazy;'
        : 'const out = exports;';
      const getters = names.map((k) => `Object.defineProperty(out, ${JSON.stringify(k)}, { enumerable: true, get: () => real()[${JSON.stringify(k)}] });`);
      return {
        contents: `let m; const real = () => (m ??= require(${JSON.stringify(target)}));\n${head}\n${getters.join('\n')}\n`,
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
function clientNodeNames() {
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
        const all = [...src.matchAll(/@kubernetes\/client-node/g)].length;
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
