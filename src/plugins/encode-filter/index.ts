/** encode-filter (llm-d): pods that run multimodal encoders, by label `llm-d.ai/role`; unlabelled pods are left out. */
import type { PluginRegistration } from '../../framework/plugin.js';
import { ByLabelFilter } from '../shared/by-label.js';
import { ROLE_LABEL, Roles } from '../shared/disagg.js';

export const ENCODE_FILTER = 'encode-filter';
export const ENCODE_ROLES = [Roles.encode, Roles.encodePrefill, Roles.encodePrefillDecode] as const;

export const registration: PluginRegistration = {
  type: ENCODE_FILTER,
  takesNoParameters: true,
  factory: (name) => new ByLabelFilter(ENCODE_FILTER, name, ROLE_LABEL, ENCODE_ROLES, false),
};
