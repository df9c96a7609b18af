import type { Plugin } from "esbuild"

/** Rewrites the workspace's imports from a barrel into imports of the modules that hold the names. */
export declare const directImports: Plugin
