/** This package's version, from its package.json (written by scripts/api-version.ts: do not edit). */
export const version = "0.1.0"
