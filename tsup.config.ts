import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'lib/index.ts',
    'testing/index': 'lib/testing/index.ts',
    'testing/bin': 'lib/emulator/bin.ts',
    'nest/index': 'lib/nest/index.ts',
  },
  format: ['cjs', 'esm'],
  dts: {
    entry: { index: 'lib/index.ts', 'testing/index': 'lib/testing/index.ts', 'nest/index': 'lib/nest/index.ts' },
  },
  target: 'node20',
  platform: 'node',
  clean: true,
  sourcemap: false,
  splitting: false,
  shims: false,
});
