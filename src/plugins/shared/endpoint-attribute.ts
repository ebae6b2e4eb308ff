/** Naming and reading a numeric endpoint attribute the way llm-d's endpoint-attribute plugins do. */
import type { Endpoint } from '../../framework/endpoint.js';
import { attributeKey } from '../../framework/datalayer.js';
import { ConfigError } from '../../errors.js';

/** The producer of an attribute whose `producer` is not given: the core metrics extractor (its custom metrics). */
export const DEFAULT_ATTRIBUTE_PRODUCER = 'core-metrics-extractor';

/**
 * The attribute key for `attribute` of `producer` (absent: the core metrics extractor; "" : no producer). An
 * attribute with a `/` and no producer is refused: it is most likely the combined spelling.
 */
export function resolveAttributeKey(path: string, attribute: string, producer: string | null | undefined): string {
  if (producer !== undefined && producer !== null) return attributeKey(attribute, producer);
  const slash = attribute.lastIndexOf('/');
  if (slash >= 0) {
    throw new ConfigError(
      path,
      `"${attribute}" contains "/" but no producer is set; the attribute and its producer are separate parameters ` +
        `(attribute "${attribute.slice(0, slash)}", producer "${attribute.slice(slash + 1)}"), or set producer explicitly`,
    );
  }
  return attributeKey(attribute, DEFAULT_ATTRIBUTE_PRODUCER);
}

/** The endpoint's attribute as a finite number, or undefined when it has none (or not a number). */
export function numericAttribute(endpoint: Endpoint, key: string): number | undefined {
  const v = endpoint.attributes.get(key);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
