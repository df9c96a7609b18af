/**
 * @foreman/agents — the designer and assessor agents a coordinator runs in
 * its design and assessment phases. `OfflineAgents` needs no network: its
 * designs are not from a model.
 */
export * as OfflineAgents from "./OfflineAgents.js"
