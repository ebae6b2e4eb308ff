import type { PluginIdentity } from '../framework/plugin.js';

/** Extension points as the Go EPP labels them in `inference_extension_plugin_duration_seconds`. */
export const ExtensionPoints = {
  profilePick: 'ProfilePicker',
  filter: 'Filter',
  scorer: 'Scorer',
  picker: 'Picker',
  processResults: 'ProcessProfilesResults',
  preRequest: 'PreRequest',
  dataProducer: 'PrepareData',
  responseReceived: 'ResponseReceived',
  responseStreaming: 'ResponseStreaming',
  responseComplete: 'ResponseComplete',
} as const;

export type ExtensionPoint = (typeof ExtensionPoints)[keyof typeof ExtensionPoints];

/** Records durations in seconds. Bound per plugin once, so the hot path does no label lookups. */
export type DurationRecorder = (seconds: number) => void;

/** The framework times every plugin call and the whole cycle; metrics implement this. */
export interface SchedulingObserver {
  pluginTimer(extensionPoint: ExtensionPoint, plugin: PluginIdentity): DurationRecorder;
  cycleDone(seconds: number, ok: boolean): void;
}

const noop: DurationRecorder = () => {};

export const nullObserver: SchedulingObserver = {
  pluginTimer: () => noop,
  cycleDone: () => {},
};
