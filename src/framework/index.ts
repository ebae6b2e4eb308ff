/** The framework's contracts, in one import. Nothing here depends on the runtime. */
export * from './plugin.js';
export * from './endpoint.js';
export * from './request.js';
export * from './cycle-state.js';
export * from './scheduling.js';
export * from './request-control.js';
export * from './registry.js';
export * from './discovery.js';
export * from './datalayer.js';
export * from './worker-tasks.js';
export * from './headers.js';
export * from './flow-control.js';
