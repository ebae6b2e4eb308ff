import { ConfigError } from '../errors.js';
import { KNOWN_FEATURE_GATES } from './defaults.js';

/** `name`, `name=true` or `name=false` → name → enabled. Unknown names are errors. */
export function parseFeatureGates(gates: readonly string[] | undefined): Map<string, boolean> {
  const out = new Map<string, boolean>();
  (gates ?? []).forEach((gate, i) => {
    const [name = '', value] = gate.split('=', 2);
    if (!(KNOWN_FEATURE_GATES as readonly string[]).includes(name)) {
      throw new ConfigError(`featureGates[${i}]`, `unknown feature gate "${name}" (known: ${KNOWN_FEATURE_GATES.join(', ')})`);
    }
    if (value !== undefined && value !== 'true' && value !== 'false') {
      throw new ConfigError(`featureGates[${i}]`, `invalid value "${value}" for gate "${name}" (want true or false)`);
    }
    out.set(name, value !== 'false');
  });
  return out;
}
