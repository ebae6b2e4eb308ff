/** What runs when no config is given: the Go EPP's default (weights 2 / 2 / 3). */
export const DEFAULT_CONFIG_TEXT = `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
    weight: 2
  - pluginRef: kv-cache-utilization-scorer
    weight: 2
  - pluginRef: prefix-cache-scorer
    weight: 3
`;

/** Plugins the defaulting rules add when a config leaves them out. */
export const DEFAULT_PICKER = 'max-score-picker';
export const DEFAULT_PROFILE_HANDLER = 'single-profile-handler';
export const DEFAULT_PROFILE_NAME = 'default';

/** Feature gates the EPP knows; any other name is a startup error. */
export const KNOWN_FEATURE_GATES = ['flowControl', 'dataLayer', 'prepareDataPlugins'] as const;
