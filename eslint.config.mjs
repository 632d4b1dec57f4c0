// ESLint for Pacer: Next's rules (core web vitals), React Hooks' rules and typescript-eslint's, as
// eslint-config-next ships them for flat config. `npm run lint` allows no warnings.
import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  {
    rules: {
      // A `let` that a closure defined earlier reads (a stop handler, a server's handler) stays a `let`.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      // A leading underscore marks a parameter a signature requires but the body does not use.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
    },
  },
  {
    // Tests and benchmarks call route handlers with loosely typed contexts and stub remote APIs'
    // untyped parameters; product code keeps the rule.
    files: ["tests/**", "bench/**", "e2e/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  globalIgnores([".next/**", ".pacer/**", "node_modules/**", "next-env.d.ts", "test-results/**", "playwright-report/**"]),
]);
