/** prefill-filter (llm-d): pods that can prefill, by label `llm-d.ai/role`; unlabelled pods are left out. */
import type { PluginRegistration } from '../../framework/plugin.js';
import { ByLabelFilter } from '../shared/by-label.js';
import { ROLE_LABEL, Roles } from '../shared/disagg.js';

export const PREFILL_FILTER = 'prefill-filter';
export const PREFILL_ROLES = [Roles.prefill, Roles.encodePrefill, Roles.prefillDecode, Roles.both, Roles.encodePrefillDecode] as const;

export const registration: PluginRegistration = {
  type: PREFILL_FILTER,
  takesNoParameters: true,
  factory: (name) => new ByLabelFilter(PREFILL_FILTER, name, ROLE_LABEL, PREFILL_ROLES, false),
};
