/** decode-filter (llm-d): pods that can decode, by label `llm-d.ai/role`; unlabelled pods count as decoders. */
import type { PluginRegistration } from '../../framework/plugin.js';
import { ByLabelFilter } from '../shared/by-label.js';
import { ROLE_LABEL, Roles } from '../shared/disagg.js';

export const DECODE_FILTER = 'decode-filter';
export const DECODE_ROLES = [Roles.decode, Roles.prefillDecode, Roles.both, Roles.encodePrefillDecode] as const;

export const registration: PluginRegistration = {
  type: DECODE_FILTER,
  takesNoParameters: true,
  factory: (name) => new ByLabelFilter(DECODE_FILTER, name, ROLE_LABEL, DECODE_ROLES, true),
};
