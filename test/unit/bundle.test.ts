import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { clientNodeNames } from '../../scripts/bundle.mjs';

describe('the executables\' bundle of @kubernetes/client-node', () => {
  it('holds only what the built CLI imports from it (KubeConfig, for credential plugins), not the whole library', () => {
    // A comment that merely names the library once made the scan fall back to the whole of it
    // (2.7 MB, a 1.8 MB code cache, exec-plugin users 20 ms slower). dist/ is built by `npm test`.
    expect(clientNodeNames()).toEqual(['KubeConfig']);
  });
});
