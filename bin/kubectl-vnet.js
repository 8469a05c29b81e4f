#!/usr/bin/env node
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`error: kubectl-vnet needs Node.js 22.12 or newer; this is ${process.version}\nhint: install Node 26 LTS, or use a release binary, which carries its own\n`);
  process.exit(1);
}
const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
