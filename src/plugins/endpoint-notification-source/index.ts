/**
 * endpoint-notification-source (llm-d): the data source that tells its extractors when endpoints join and
 * leave. Here every plugin that listens for endpoint changes (EndpointLifecycleListener) is told by the
 * endpoint store itself, so this source only has to exist for llm-d configs that list it in
 * `dataLayer.sources` (with `precise-prefix-cache-producer` as its extractor) to load unchanged.
 */
import type { PluginRegistration } from '../../framework/plugin.js';
import type { NotificationSource } from '../../framework/datalayer.js';

export const ENDPOINT_NOTIFICATION_SOURCE = 'endpoint-notification-source';

export class EndpointNotificationSource implements NotificationSource {
  readonly type = ENDPOINT_NOTIFICATION_SOURCE;
  readonly notificationsOnly = true;
  constructor(readonly name: string) {}
}

export const registration: PluginRegistration = {
  type: ENDPOINT_NOTIFICATION_SOURCE,
  takesNoParameters: true,
  factory: (name) => new EndpointNotificationSource(name),
};
