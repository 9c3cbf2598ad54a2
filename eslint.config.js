// The static gate's lint rules (npm run lint): functions that fit on a screen, lines that fit a review
// window, and typescript-eslint's recommended checks for the sources, tests and benches.
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'native/build/', 'bpf/.output/', 'tmp/', 'results/']},
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', {max: 80, skipBlankLines: true, skipComments: true}],
      'max-len': ['error', {code: 200, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreComments: false}],
    },
  },
  {
    // chai's property assertions (expect(x).to.be.true) are expressions by design
    files: ['test/**/*.ts'],
    rules: {'@typescript-eslint/no-unused-expressions': 'off'},
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      // walking a chain of objects from `this` (BTF bases, splits) reads best with a local alias
      '@typescript-eslint/no-this-alias': 'off',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'}],
    },
  },
)
