/** data-parallel-profile-handler: the pick moves to primaryPort, the rank goes in x-data-parallel-host-port. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { primaryTargets } from '../../src/framework/scheduling.js';
import { cycleFromConfig } from '../helpers/config-cycle.js';
import { makeEndpoint, makeRequest } from '../helpers/fixtures.js';
import { registration } from '../../src/plugins/data-parallel-profile-handler/index.js';
import { ConfigError } from '../../src/errors.js';
import { testHandle } from '../helpers/fixtures.js';

const CONFIG = (port: string) => `plugins:
- type: queue-scorer
- type: max-score-picker
- type: data-parallel-profile-handler${port}
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
  - pluginRef: max-score-picker
`;

test('data-parallel-profile-handler: destination on primaryPort, the rank in the request header', () => {
  const cases = [
    { name: 'default port 8000', config: CONFIG(''), port: 8000 },
    { name: 'primaryPort 9000', config: CONFIG('\n  parameters: {primaryPort: 9000}'), port: 9000 },
  ];
  for (const c of cases) {
    const { cycle, warnings } = cycleFromConfig(c.config);
    assert.match(warnings.join('\n'), /deprecated in llm-d/);
    const ranks = [makeEndpoint({ name: 'r0', address: '10.0.0.1', port: 8001, queue: 5 }), makeEndpoint({ name: 'r1', address: '10.0.0.1', port: 8002, queue: 0 })];
    const out = cycle.runSync(makeRequest({ prompt: 'x' }), ranks);
    assert.equal(primaryTargets(out.result)[0]!.endpoint.hostPort, `10.0.0.1:${c.port}`, c.name);
    const headers = [...out.requestHeaders.set];
    assert.deepEqual(headers, [['x-data-parallel-host-port', '10.0.0.1:8002']], c.name);
  }
  assert.throws(() => registration.factory('dp', { primaryPort: 70000 }, testHandle()), (e: unknown) => e instanceof ConfigError && /^parameters\.primaryPort: must be between 1 and 65535, got 70000/.test(e.message));
});
