// eslint's flat config for the project's browser code (static/js/: ES modules run in the page or in a
// Web Worker) and its JS unit tests (tests/js/, run by `node --test`). `make lint` runs it.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["static/vendor/", "node_modules/", "static/models/"] },
  js.configs.recommended,
  {
    files: ["static/js/**/*.js", "static/js/**/*.mjs"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser, ...globals.worker },
    },
    rules: {
      "no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
      "no-implied-eval": "error",
      "prefer-const": "error",
    },
  },
  {
    files: ["tests/js/**/*.mjs", "tests/js/**/*.js", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.node } },
  },
];
