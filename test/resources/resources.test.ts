import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, renameSync, symlinkSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { parseResources, type Resources } from '../../src/resources/manifests.js';
import { priorityOf, rewriteTarget } from '../../src/resources/model-rewrite.js';
import { ResourceFile } from '../../src/resources/resource-file.js';
import { until } from '../helpers/until.js';

const API = 'apiVersion: inference.networking.x-k8s.io/v1alpha2\n';
const OBJ = `${API}kind: InferenceObjective\n`;
const RW = `${API}kind: InferenceModelRewrite\nmetadata: {name: r}\n`;
const rules = (body: string) => `${RW}spec: {rules: [${body}]}\n`;

const GOOD = `# leading comment
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata:
  name: critical
  namespace: ml
  labels: {team: a}
  annotations: {note: anything}
spec:
  priority: 100
  poolRef: {group: inference.networking.k8s.io, kind: InferencePool, name: pool}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: default-priority}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: sheddable}
spec: {priority: -10}
---
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: llama-split}
spec:
  poolRef: {name: pool}
  rules:
  - matches:
    - model: {type: Exact, value: llama}
    - model: {value: llama-latest}
    targets:
    - {modelRewrite: llama-v1, weight: 1}
    - {modelRewrite: llama-v2, weight: 3}
  - matches: [{model: {value: mistral}}]
    targets: [{modelRewrite: mistral-v2}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: later}
spec:
  rules:
  - matches: [{model: {value: llama}}]
    targets: [{modelRewrite: never-chosen}]
`;

const snapshot = (r: Resources) => ({ objectives: [...r.objectives.entries()], rewrites: r.rewrites });

test('parseResources: a good file with both kinds parses to exact values; empty documents are skipped', () => {
  assert.deepEqual(snapshot(parseResources(GOOD, 'good.yaml')), {
    objectives: [
      ['critical', { name: 'critical', priority: 100 }],
      ['default-priority', { name: 'default-priority', priority: 0 }],
      ['sheddable', { name: 'sheddable', priority: -10 }],
    ],
    rewrites: [
      { name: 'llama-split', models: ['llama', 'llama-latest'], targets: [{ model: 'llama-v1', weight: 1 }, { model: 'llama-v2', weight: 3 }] },
      { name: 'llama-split', models: ['mistral'], targets: [{ model: 'mistral-v2', weight: 1 }] },
      { name: 'later', models: ['llama'], targets: [{ model: 'never-chosen', weight: 1 }] },
    ],
  });
  for (const text of ['', '---\n', '# only a comment\n', '---\n---\n']) {
    assert.deepEqual(snapshot(parseResources(text, 'empty.yaml')), { objectives: [], rewrites: [] }, JSON.stringify(text));
  }
});

test('parseResources: bad documents are ConfigErrors naming the document, the field and the problem', () => {
  const cases: { name: string; text: string; path: string; message: string }[] = [
    { name: 'another kind', text: 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\n', path: 'documents[0]', message: 'documents[0]: unsupported kind "Service" (expected InferenceObjective or InferenceModelRewrite)' },
    {
      name: 'another apiVersion, after empty documents',
      text: '---\n---\napiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: InferenceObjective\nmetadata: {name: x}\n',
      path: 'documents[1].apiVersion',
      message: 'documents[1].apiVersion: InferenceObjective must have apiVersion "inference.networking.x-k8s.io/v1alpha2", got "inference.networking.x-k8s.io/v1alpha1"',
    },
    { name: 'no apiVersion', text: 'kind: InferenceModelRewrite\nmetadata: {name: x}\n', path: 'documents[0].apiVersion', message: 'documents[0].apiVersion: InferenceModelRewrite must have apiVersion "inference.networking.x-k8s.io/v1alpha2", got none' },
    { name: 'no kind', text: `${API}metadata: {name: x}\n`, path: 'documents[0].kind', message: 'documents[0].kind: required field is missing' },
    { name: 'not a mapping', text: `${OBJ}metadata: {name: x}\n---\n- 1\n`, path: 'documents[1]', message: 'documents[1]: a manifest must be a mapping, got a list' },
    { name: 'no name', text: `${OBJ}metadata: {labels: {a: b}}\n`, path: 'documents[0].metadata.name', message: 'documents[0].metadata.name: required field is missing' },
    { name: 'no metadata', text: OBJ, path: 'documents[0].metadata', message: 'documents[0].metadata: required field is missing' },
    { name: 'empty name', text: `${OBJ}metadata: {name: ""}\n`, path: 'documents[0].metadata.name', message: 'documents[0].metadata.name: must not be empty' },
    { name: 'fractional priority', text: `${OBJ}metadata: {name: x}\nspec: {priority: 1.5}\n`, path: 'documents[0].spec.priority', message: 'documents[0].spec.priority: must be an integer, got 1.5' },
    { name: 'string priority', text: `${OBJ}metadata: {name: x}\nspec: {priority: high}\n`, path: 'documents[0].spec.priority', message: 'documents[0].spec.priority: must be a number, got "high"' },
    { name: 'unknown spec key', text: `${OBJ}metadata: {name: x}\nspec: {criticality: Critical}\n`, path: 'documents[0].spec.criticality', message: 'documents[0].spec.criticality: unknown field (in r.yaml)' },
    { name: 'unknown top-level key', text: `${OBJ}metadata: {name: x}\nextra: 1\n`, path: 'documents[0].extra', message: 'documents[0].extra: unknown field (in r.yaml)' },
    { name: 'poolRef not a mapping', text: `${OBJ}metadata: {name: x}\nspec: {poolRef: pool}\n`, path: 'documents[0].spec.poolRef', message: 'documents[0].spec.poolRef: must be a mapping, got "pool"' },
    {
      name: 'duplicate objective (namespaces do not matter)',
      text: `${OBJ}metadata: {name: x}\n---\n${OBJ}metadata: {name: x, namespace: other}\n`,
      path: 'documents[1].metadata.name',
      message: 'documents[1].metadata.name: duplicate InferenceObjective "x" (first defined in documents[0])',
    },
    { name: 'rewrite without spec', text: RW, path: 'documents[0].spec', message: 'documents[0].spec: required field is missing' },
    { name: 'no rules', text: rules(''), path: 'documents[0].spec.rules', message: 'documents[0].spec.rules: must have at least 1 item' },
    {
      name: 'match type other than Exact',
      text: rules('{matches: [{model: {type: Prefix, value: a}}], targets: [{modelRewrite: b}]}'),
      path: 'documents[0].spec.rules[0].matches[0].model.type',
      message: 'documents[0].spec.rules[0].matches[0].model.type: must be "Exact", got "Prefix"',
    },
    {
      name: 'match without a value',
      text: rules('{matches: [{model: {type: Exact}}], targets: [{modelRewrite: b}]}'),
      path: 'documents[0].spec.rules[0].matches[0].model.value',
      message: 'documents[0].spec.rules[0].matches[0].model.value: required field is missing',
    },
    {
      name: 'unknown match key',
      text: rules('{matches: [{model: {value: a}, headers: {}}], targets: [{modelRewrite: b}]}'),
      path: 'documents[0].spec.rules[0].matches[0].headers',
      message: 'documents[0].spec.rules[0].matches[0].headers: unknown field (in r.yaml)',
    },
    {
      name: 'negative weight',
      text: rules('{matches: [{model: {value: a}}], targets: [{modelRewrite: b}, {modelRewrite: c, weight: -1}]}'),
      path: 'documents[0].spec.rules[0].targets[1].weight',
      message: 'documents[0].spec.rules[0].targets[1].weight: must be >= 0, got -1',
    },
    {
      name: 'fractional weight',
      text: rules('{matches: [{model: {value: a}}], targets: [{modelRewrite: b, weight: 0.5}]}'),
      path: 'documents[0].spec.rules[0].targets[0].weight',
      message: 'documents[0].spec.rules[0].targets[0].weight: must be an integer, got 0.5',
    },
    {
      name: 'misspelt weight',
      text: rules('{matches: [{model: {value: a}}], targets: [{modelRewrite: b, wieght: 2}]}'),
      path: 'documents[0].spec.rules[0].targets[0].wieght',
      message: 'documents[0].spec.rules[0].targets[0].wieght: unknown field (in r.yaml)',
    },
    { name: 'no targets', text: rules('{matches: [{model: {value: a}}]}'), path: 'documents[0].spec.rules[0].targets', message: 'documents[0].spec.rules[0].targets: required field is missing' },
    { name: 'empty targets', text: rules('{matches: [{model: {value: a}}], targets: []}'), path: 'documents[0].spec.rules[0].targets', message: 'documents[0].spec.rules[0].targets: must have at least 1 item' },
    {
      name: 'target without modelRewrite',
      text: rules('{matches: [{model: {value: a}}], targets: [{weight: 1}]}'),
      path: 'documents[0].spec.rules[0].targets[0].modelRewrite',
      message: 'documents[0].spec.rules[0].targets[0].modelRewrite: required field is missing',
    },
    {
      name: 'YAML syntax error',
      text: `${OBJ}metadata: {name: x}\nspec: {priority: 1\n`,
      path: 'documents[0]',
      message: 'documents[0]: invalid YAML in r.yaml at line 5, column 1: Flow map in block collection must be sufficiently indented and end with a }',
    },
    { name: 'duplicate key', text: `${OBJ}metadata: {name: x}\nmetadata: {name: y}\n`, path: 'documents[0]', message: 'documents[0]: invalid YAML in r.yaml at line 4, column 1: Map keys must be unique' },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseResources(c.text, 'r.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, c.name);
        assert.equal(e.message, c.message, c.name);
        assert.equal(e.path, c.path, c.name);
        return true;
      },
      c.name,
    );
  }
});

const fixed = (value: number) => ({ next: () => value });

test('rewriteTarget: first matching rule wins, weighted pick, uniform when all weights are 0, undefined without a match', () => {
  const resources = parseResources(GOOD, 'good.yaml');
  const zero = parseResources(rules('{matches: [{model: {value: a}}], targets: [{modelRewrite: x, weight: 0}, {modelRewrite: y, weight: 0}]}'), 'z.yaml');
  const withZero = parseResources(rules('{matches: [{model: {value: a}}], targets: [{modelRewrite: x, weight: 0}, {modelRewrite: y, weight: 2}, {modelRewrite: z, weight: 0}]}'), 'z.yaml');
  const cases: { name: string; resources: Resources; model: string; random: number; want: string | undefined }[] = [
    { name: '1:3, low draw → first target', resources, model: 'llama', random: 0.1, want: 'llama-v1' },
    { name: '1:3, just under 1/4 → first target', resources, model: 'llama', random: 0.249, want: 'llama-v1' },
    { name: '1:3, exactly 1/4 → second target', resources, model: 'llama', random: 0.25, want: 'llama-v2' },
    { name: '1:3, high draw → second target', resources, model: 'llama', random: 0.9, want: 'llama-v2' },
    { name: 'second match of the same rule', resources, model: 'llama-latest', random: 0.1, want: 'llama-v1' },
    { name: 'missing weight counts 1', resources, model: 'mistral', random: 0.99, want: 'mistral-v2' },
    { name: 'no match', resources, model: 'gpt', random: 0.1, want: undefined },
    { name: 'matches are exact (case)', resources, model: 'Llama', random: 0.1, want: undefined },
    { name: 'all zero, low draw → uniform first', resources: zero, model: 'a', random: 0.1, want: 'x' },
    { name: 'all zero, high draw → uniform last', resources: zero, model: 'a', random: 0.9, want: 'y' },
    { name: 'zero weights are never drawn', resources: withZero, model: 'a', random: 0, want: 'y' },
    { name: 'zero weights are never drawn (top)', resources: withZero, model: 'a', random: 0.999999, want: 'y' },
  ];
  for (const c of cases) assert.equal(rewriteTarget(c.resources, c.model, fixed(c.random)), c.want, c.name);
});

test('priorityOf: the objective priority, 0 when the name is empty or unknown', () => {
  const resources = parseResources(GOOD, 'good.yaml');
  const cases: [string | undefined, number][] = [
    ['critical', 100],
    ['sheddable', -10],
    ['default-priority', 0],
    ['unknown', 0],
    ['', 0],
    [undefined, 0],
  ];
  for (const [name, want] of cases) assert.equal(priorityOf(resources, name), want, String(name));
});

const objective = (name: string, priority: number) => `${OBJ}metadata: {name: ${name}}\nspec: {priority: ${priority}}\n`;

function recordingLog() {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, warn: (m: string) => void warnings.push(m), info: (m: string) => void infos.push(m) };
}

const watchHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'StatWatcher').length;

test('ResourceFile.open: an unreadable or invalid file is a ConfigError at resources-file naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'epp-res-'));
  try {
    writeFileSync(join(dir, 'bad.yaml'), `${OBJ}metadata: {name: x}\nspec: {priority: high}\n`);
    const cases: [string, string][] = [
      ['missing.yaml', `resources-file: cannot load resources from "${join(dir, 'missing.yaml')}": ENOENT: no such file or directory, open '${join(dir, 'missing.yaml')}'`],
      ['bad.yaml', `resources-file: cannot load resources from "${join(dir, 'bad.yaml')}": documents[0].spec.priority: must be a number, got "high"`],
    ];
    for (const [file, message] of cases) {
      await assert.rejects(ResourceFile.open(join(dir, file), { watch: true, log: recordingLog() }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, file);
        assert.equal(e.path, 'resources-file', file);
        assert.equal(e.message, message, file);
        return true;
      });
    }
    assert.equal(watchHandles(), 0, 'a failed open leaves no watcher');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ResourceFile watch: edits, bad edits, atomic renames and symlink swaps; close leaves no handles', async () => {
  const baseline = watchHandles();
  const dir = mkdtempSync(join(tmpdir(), 'epp-res-'));
  const file = join(dir, 'resources.yaml');
  writeFileSync(file, objective('a', 1));
  const log = recordingLog();
  const f = await ResourceFile.open(file, { watch: true, log });
  const changes: Resources[] = [];
  f.onChange = (r) => void changes.push(r);
  const prio = () => priorityOf(f.current, 'a');
  try {
    assert.equal(prio(), 1);
    assert.ok(watchHandles() > baseline, 'watching');

    writeFileSync(file, `${objective('a', 2)}---\n${rules('{matches: [{model: {value: m}}], targets: [{modelRewrite: n}]}')}`);
    await until(() => prio() === 2, 'an in-place edit');
    assert.equal(rewriteTarget(f.current, 'm', fixed(0.5)), 'n');
    assert.equal(changes.length, 1);
    assert.ok(log.infos.includes(`reloaded resources from "${file}": 1 objective, 1 rewrite rule`), log.infos.join('\n'));

    writeFileSync(file, `${OBJ}metadata: {name: a}\nspec: {priority: 3, weight: 1}\n`);
    await until(() => log.warnings.length > 0, 'the bad-edit warning');
    assert.deepEqual(log.warnings, [
      `"${file}" is not a valid resources file (documents[0].spec.weight: unknown field (in ${file})); keeping the last good resources`,
    ]);
    assert.equal(prio(), 2);
    assert.equal(changes.length, 1);

    const tmp = join(dir, '.resources.tmp');
    writeFileSync(tmp, `${objective('a', 4)}---\n${objective('b', 5)}`);
    renameSync(tmp, file);
    await until(() => prio() === 4, 'an atomic rename');
    assert.equal(priorityOf(f.current, 'b'), 5);
    assert.equal(f.current.rewrites.length, 0);
    assert.equal(changes.length, 2);
    assert.equal(changes[1], f.current);
  } finally {
    await f.close();
  }
  // After close, edits are no longer seen.
  writeFileSync(file, objective('a', 9));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(prio(), 4);

  // Kubernetes ConfigMap style: the path is a symlink whose target is swapped.
  const v1 = join(dir, 'v1');
  const v2 = join(dir, 'v2');
  mkdirSync(v1);
  mkdirSync(v2);
  writeFileSync(join(v1, 'r.yaml'), objective('s', 10));
  writeFileSync(join(v2, 'r.yaml'), objective('s', 20));
  const link = join(dir, 'current.yaml');
  symlinkSync(join(v1, 'r.yaml'), link);
  const g = await ResourceFile.open(link, { watch: true, log: recordingLog() });
  try {
    assert.equal(priorityOf(g.current, 's'), 10);
    const next = join(dir, 'current.tmp');
    symlinkSync(join(v2, 'r.yaml'), next);
    renameSync(next, link);
    await until(() => priorityOf(g.current, 's') === 20, 'a symlink swap');
  } finally {
    await g.close();
  }

  await until(() => watchHandles() === baseline, 'the watchers to be released');
  rmSync(dir, { recursive: true, force: true });
});

test('ResourceFile without watch: no handles are opened', async () => {
  const baseline = watchHandles();
  const dir = mkdtempSync(join(tmpdir(), 'epp-res-'));
  try {
    const file = join(dir, 'r.yaml');
    writeFileSync(file, objective('a', 7));
    const f = await ResourceFile.open(file, { watch: false, log: recordingLog() });
    assert.equal(watchHandles(), baseline);
    assert.equal(priorityOf(f.current, 'a'), 7);
    await f.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
