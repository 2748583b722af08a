import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Layers, lowest first: util -> store -> session, sso, cloud -> auth -> express. A layer never
// imports one above it, and only lib/express/ (and the emulator, an app of its own) may import
// express. config/options/errors/instance sit beside the layers and are imported by them.
const upper = (...layers) => layers.map((l) => `**/${l}/**`);
const layerRule = (message, ...layers) => ({
  'no-restricted-imports': [
    'error',
    { paths: [{ name: 'express', message }], patterns: [{ group: upper(...layers), message }] },
  ],
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
  {
    files: ['lib/util/**/*.ts'],
    rules: layerRule(
      'lib/util is the lowest layer: no express, no other layer.',
      'store',
      'session',
      'sso',
      'cloud',
      'auth',
      'express',
      'telemetry',
      'testing',
      'emulator',
    ),
  },
  {
    files: ['lib/store/**/*.ts'],
    rules: layerRule(
      'lib/store knows nothing of sessions, the SSO or Express.',
      'session',
      'sso',
      'cloud',
      'auth',
      'express',
      'testing',
      'emulator',
    ),
  },
  {
    files: ['lib/session/**/*.ts', 'lib/sso/**/*.ts', 'lib/cloud/**/*.ts', 'lib/telemetry/**/*.ts'],
    rules: layerRule(
      'session/, sso/, cloud/ and telemetry/ know nothing of Express or the layers above them.',
      'auth',
      'express',
      'testing',
      'emulator',
    ),
  },
  {
    files: ['lib/appcenter/**/*.ts'],
    rules: layerRule(
      'lib/appcenter (SPI verification, decoding, idempotency) is framework-agnostic: no express.',
      'auth',
      'express',
      'testing',
      'emulator',
    ),
  },
  // The emulator is an app of its own: it shares only the signers and the option messages.
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
  {
    files: ['lib/auth/**/*.ts'],
    rules: layerRule('lib/auth is framework-agnostic: no express.', 'express', 'testing', 'emulator'),
  },
  {
    files: ['lib/config.ts', 'lib/errors.ts'],
    rules: layerRule('config and errors sit below every layer.', 'express', 'testing', 'emulator'),
  },
  // options.ts is the public options type: it may name express's Request type, nothing else.
  {
    files: ['lib/options.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'express', allowTypeImports: true, message: 'options.ts may only import types from express.' },
          ],
          patterns: [{ group: upper('express', 'testing', 'emulator'), message: 'options.ts sits below every layer.' }],
        },
      ],
    },
  },
);
