/**
 * label-selector-filter (llm-d): keeps the pods a Kubernetes label selector matches (`matchLabels`,
 * `matchExpressions` with In / NotIn / Exists / DoesNotExist). `by-label-selector` is its deprecated name.
 */
import type { Endpoint } from '../../framework/endpoint.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import type { Filter } from '../../framework/scheduling.js';
import { paramsOf } from '../shared/params.js';
import { compileSelector, type LabelPredicate } from './selector.js';
import { knownParameters } from '../shared/schema-params.js';

export const LABEL_SELECTOR_FILTER = 'label-selector-filter';
export const BY_LABEL_SELECTOR = 'by-label-selector';

export class LabelSelectorFilter implements Filter {
  constructor(
    readonly type: string,
    readonly name: string,
    private readonly matches: LabelPredicate,
  ) {}

  filter(_cs: unknown, _req: unknown, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    return endpoints.filter((e) => this.matches(e.metadata.labels));
  }
}

export const registration: PluginRegistration = {
  type: LABEL_SELECTOR_FILTER,
  parameters: knownParameters('matchLabels', 'matchExpressions'),
  factory: (name, parameters) => new LabelSelectorFilter(LABEL_SELECTOR_FILTER, name, compileSelector(paramsOf(parameters))),
};

export const legacyRegistration: PluginRegistration = {
  type: BY_LABEL_SELECTOR,
  parameters: knownParameters('matchLabels', 'matchExpressions'),
  factory: (name, parameters, handle) => {
    handle.warn(`${BY_LABEL_SELECTOR} is deprecated; use ${LABEL_SELECTOR_FILTER}`);
    return new LabelSelectorFilter(BY_LABEL_SELECTOR, name, compileSelector(paramsOf(parameters)));
  },
};
