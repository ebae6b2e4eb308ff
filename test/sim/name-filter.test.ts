/** The simulator's `?name[]=` filter, as prometheus_client applies it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestedNames, restrictToNames } from '../../src/sim/name-filter.js';

const PAGE = `# HELP a:gauge A gauge.
# TYPE a:gauge gauge
a:gauge{model_name="m"} 1
# HELP a:hist A histogram.
# TYPE a:hist histogram
a:hist_bucket{le="1"} 2
a:hist_bucket{le="+Inf"} 3
a:hist_sum 4
a:hist_count 3
# HELP b:total A counter.
# TYPE b:total counter
b:total 7
`;

const cases = [
  { name: 'no names: the whole page', target: '/metrics', out: PAGE },
  { name: 'one gauge with its HELP and TYPE', target: '/metrics?name[]=a:gauge', out: '# HELP a:gauge A gauge.\n# TYPE a:gauge gauge\na:gauge{model_name="m"} 1\n' },
  { name: 'percent-encoded keys and values, two families', target: '/metrics?name%5B%5D=b%3Atotal&name%5B%5D=a%3Agauge', out: '# HELP a:gauge A gauge.\n# TYPE a:gauge gauge\na:gauge{model_name="m"} 1\n# HELP b:total A counter.\n# TYPE b:total counter\nb:total 7\n' },
  { name: 'a histogram sample name keeps only those samples, under the family\'s TYPE', target: '/metrics?name[]=a:hist_count', out: '# HELP a:hist A histogram.\n# TYPE a:hist histogram\na:hist_count 3\n' },
  { name: 'a family name of a histogram matches no sample (prometheus_client filters samples)', target: '/metrics?name[]=a:hist', out: '' },
  { name: 'unknown names: an empty page', target: '/metrics?name[]=nope', out: '' },
  { name: 'other query parameters are ignored', target: '/metrics?x=1', out: PAGE },
];

for (const c of cases) {
  test(`name[] filter: ${c.name}`, () => {
    assert.equal(restrictToNames(PAGE, requestedNames(c.target)), c.out);
  });
}
