#!/usr/bin/env node
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `error: kubectl-vnet needs Node.js 22.12 or newer; this is ${process.version} (${process.execPath})\n` +
      'hint: in the source checkout, run `source scripts/node-env.sh` once (it installs Node 26 into .toolchain/) and link\n' +
      '      bin/kubectl-vnet, not bin/kubectl-vnet.js, into a folder on PATH: it runs that Node from any shell.\n' +
      '      Or put Node 22.12+ first on PATH, or install a release binary (krew), which carries its own Node.\n',
  );
  process.exit(1);
}
// The check above is the one that matters; oclif's own (against its engines, with semver) costs start-up time.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
if (process.argv[2] === '__complete') {
  // Shell completion (kubectl_complete-vnet): from the oclif manifest, without loading oclif.
  const { readFileSync } = await import('node:fs');
  const root = new URL('../', import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL('oclif.manifest.json', root), 'utf8'));
  const pjson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
  const { runComplete } = await import('../dist/cli/complete-run.js');
  await runComplete(manifest, pjson.oclif.topics ?? {}, process.argv.slice(3));
} else {
  const { runTopLevel } = await import('../dist/cli/top-level.js');
  await runTopLevel(process.argv.slice(2), import.meta.url);
}
