/**
 * by-label (llm-d, deprecated): keeps pods whose `label` has one of `validValues`, and unlabelled pods when
 * `allowsNoLabel`. New configs use label-selector-filter or the role filters.
 */
import type { PluginRegistration } from '../../framework/plugin.js';
import { ConfigError } from '../../errors.js';
import { bool, paramsOf } from '../shared/params.js';
import { ByLabelFilter } from '../shared/by-label.js';
import { knownParameters } from '../shared/schema-params.js';

export const BY_LABEL = 'by-label';

export const registration: PluginRegistration = {
  type: BY_LABEL,
  parameters: knownParameters('label', 'validValues', 'allowsNoLabel'),
  factory: (name, parameters, handle) => {
    handle.warn(`${BY_LABEL} is deprecated; use label-selector-filter, or decode-filter / prefill-filter / encode-filter for roles`);
    const p = paramsOf(parameters);
    const label = p['label'];
    if (typeof label !== 'string' || label === '') throw new ConfigError('parameters.label', `must be a label name, got ${JSON.stringify(label)}`);
    const raw = p['validValues'] ?? [];
    if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string')) throw new ConfigError('parameters.validValues', `must be a list of strings, got ${JSON.stringify(raw)}`);
    const allowsNoLabel = bool(p, 'allowsNoLabel', false);
    if (raw.length === 0 && !allowsNoLabel) throw new ConfigError('parameters', 'either validValues must be non-empty or allowsNoLabel must be true');
    return new ByLabelFilter(BY_LABEL, name, label, raw as string[], allowsNoLabel);
  },
};
