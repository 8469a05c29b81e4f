#!/usr/bin/env node
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`error: kubectl-vnet needs Node.js 22.12 or newer; this is ${process.version}\nhint: install Node 26 LTS, or use a release binary, which carries its own\n`);
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
