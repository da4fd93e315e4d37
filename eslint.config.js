const globals = require('globals');
const ignores = require('./eslint.ignores.js');

module.exports = [
  {ignores},
  ...require('gts'),
  {
    // node:test's describe/it return promises that the runner itself awaits.
    files: ['test/**/*.ts'],
    rules: {'@typescript-eslint/no-floating-promises': 'off'},
  },
  {
    // The explorer's browser code: its own tsconfig (lib DOM, ES modules).
    files: ['src/explore/web/browser/**/*.ts'],
    languageOptions: {
      globals: globals.browser,
      parserOptions: {project: './src/explore/web/tsconfig.json'},
    },
  },
];
