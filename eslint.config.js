import tseslint from "typescript-eslint"

/**
 * The package graph, enforced: core in the middle (it imports only `effect`);
 * adapters, agents, api and worker around it; server and cli at the edge.
 * Production code never imports the memory adapter or the test support, and
 * no file reaches into another package by a relative path.
 */
const allowed = {
  core: [],
  "adapter-memory": ["core", "agents"],
  "adapter-postgres": ["core"],
  agents: ["core"],
  api: ["core"],
  worker: ["core", "api"],
  server: ["core", "api", "worker"],
  cli: ["core", "api", "worker", "server", "adapter-postgres", "agents", "examples"]
}
const packages = ["core", "adapter-memory", "adapter-postgres", "agents", "api", "worker", "server", "cli", "testing", "examples"]
const intoAnotherPackage = {
  regex: "^(\\.\\./)+(packages/)?(" + packages.join("|") + ")/(src|kit|test|bench)(/|$)",
  message: "Import another package by its name (@foreman/…), never by a relative path."
}

const packageRules = Object.entries(allowed).map(([name, deps]) => ({
  files: [`packages/${name}/src/**/*.ts`],
  rules: {
    "no-restricted-imports": ["error", {
      patterns: [
        intoAnotherPackage,
        {
          regex: "^@foreman/(?!(" + [...deps, name].join("|") + ")(/|$))",
          message: `@foreman/${name} may import only ${deps.length === 0 ? "effect" : deps.map((d) => `@foreman/${d}`).join(", ")} of ours (see the README's package table).`
        },
        ...(name === "core"
          ? [{ regex: "^(?!effect(/|$)|\\.{1,2}/)", message: "@foreman/core imports only effect." }]
          : [])
      ]
    }]
  }
}))

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", ".foreman/**", "**/*.d.ts"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
      "no-console": "error",
      "no-restricted-imports": ["error", { patterns: [intoAnotherPackage] }]
    }
  },
  ...packageRules,
  {
    // `foreman simulate` and `foreman plan` run the in-memory simulation, and `foreman server` plans with it
    // (`PlanCurves`, for GET /plan); nothing else of the CLI touches the memory adapter.
    files: [
      "packages/cli/src/commands/serverRun.ts",
      "packages/cli/src/commands/simulate.ts",
      "packages/cli/src/commands/simulateRun.ts",
      "packages/cli/src/commands/plan.ts",
      "packages/cli/src/commands/planRun.ts",
      "packages/cli/src/PlanFormat.ts",
      "packages/cli/src/Format.ts",
      "packages/cli/src/SweepFormat.ts"
    ],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [intoAnotherPackage, { regex: "^@foreman/(testing)(/|$)", message: "Production code never imports the test support." }]
      }]
    }
  },
  {
    files: ["**/bench/**", "examples/**", "scripts/**", "packages/cli/build.mjs", "packages/cli/bin/**"],
    rules: { "no-console": "off" }
  }
)
