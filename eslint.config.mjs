import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import layers from './scripts/layers.cjs';

const { LAYERS, EXPRESS_LAYERS } = layers;

// The layers of lib/, lowest first, from the one table in scripts/layers.cjs (which also checks
// the import graph): a file may import its own layer and those below it, never one above, and
// only the express and entry layers may import express (options.ts: its types only).
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** An import specifier naming a module of lib/ (`../store/x`, `./config`), from anywhere in lib/. */
const importOf = (module) =>
  module.endsWith('/')
    ? `^(\\.{1,2}/)+${escape(module.slice(0, -1))}(/|$)`
    : `^(\\.{1,2}/)+${escape(module.replace(/\.ts$/, ''))}(\\.ts)?$`;
/** The files of a module, as an eslint glob. */
const filesOf = (module) => (module.endsWith('/') ? `lib/${module}**/*.ts` : `lib/${module}`);
// axios is loaded only for an app's own instance (`httpClient`, `cloud.http`): the default client
// is Node's http, and a loaded but unused axios grows every app's heap and GC time.
const AXIOS_TYPES_ONLY = {
  name: 'axios',
  allowTypeImports: true,
  message: 'lib/ may only `import type` from axios: the default client is lib/util/node-http-client.ts.',
};
const layerRules = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1);
  if (above.length === 0) return [];
  const message = `lib/ layers (scripts/layers.cjs): ${layer.name} may not import ${above.map((l) => l.name).join(', ')}.`;
  const patterns = above.flatMap((l) => l.modules).map((m) => ({ regex: importOf(m), message }));
  const noExpress = !EXPRESS_LAYERS.includes(layer.name);
  const expressMessage = `Only ${EXPRESS_LAYERS.join(' and ')} may import express.`;
  return layer.modules.map((module) => {
    const typesOfExpress = module === 'options.ts';
    const paths = noExpress && !typesOfExpress ? [{ name: 'express', message: expressMessage }] : [];
    const typesOnly = [
      AXIOS_TYPES_ONLY,
      ...(typesOfExpress
        ? [{ name: 'express', allowTypeImports: true, message: 'options.ts may only import types from express.' }]
        : []),
    ];
    return {
      files: [filesOf(module)],
      rules: {
        'no-restricted-imports': ['error', { paths, patterns }],
        '@typescript-eslint/no-restricted-imports': ['error', { paths: typesOnly }],
      },
    };
  });
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test-output/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  // Every file of lib/ (the layer blocks below repeat it next to their own type-only rules).
  {
    files: ['lib/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [AXIOS_TYPES_ONLY] }] },
  },
  ...layerRules,
  // The emulator is an app of its own: of the package it shares only the signers and the option
  // messages (stricter than its layer, so this block replaces the layer rule for its files).
  {
    files: ['lib/emulator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../*',
                '!../util',
                '!../cloud',
                '!../appcenter',
                '!../option-rules',
                '!../errors',
                '../cloud/*',
                '!../cloud/signer',
                '../appcenter/*',
                '!../appcenter/spi-signature',
                '!../appcenter/spi-actions',
              ],
              message:
                'lib/emulator imports only util/, cloud/signer, appcenter/spi-signature and spi-actions, option-rules and errors from the package.',
            },
          ],
        },
      ],
    },
  },
);
