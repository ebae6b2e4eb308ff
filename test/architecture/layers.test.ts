/**
 * Layers import one way: the runtime and the plugins depend on the contracts (src/framework), never on each
 * other sideways. Read from the compiled sources' import lines, so a new sideways import fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** `src/`-relative paths each file under `dir` imports (relative imports only). */
function importsUnder(dir: string): { file: string; target: string }[] {
  return files(join(root, dir)).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)].map((m) => ({
      file: relative(root, file),
      target: relative(root, resolve(dirname(file), m[1]!)),
    })),
  );
}

const cases: { layer: string; forbidden: RegExp; why: string }[] = [
  { layer: 'framework', forbidden: /^(?!framework\/|errors\.js$)/, why: 'the contracts import only each other and the errors module' },
  { layer: 'plugins', forbidden: /^(datalayer|director|scheduling|pool|extproc|server|observability)\//, why: 'plugins depend on the contracts, not on the runtime' },
  { layer: 'datalayer', forbidden: /^(plugins|director|scheduling|pool|extproc)\//, why: 'the data layer gets plugins through the contracts and the registry' },
  { layer: 'scheduling', forbidden: /^(plugins|director|datalayer|extproc)\//, why: 'the scheduler runs plugins through the contracts' },
];

for (const { layer, forbidden, why } of cases) {
  test(`layering: src/${layer} imports nothing it should not (${why})`, () => {
    const bad = importsUnder(layer).filter(({ target }) => forbidden.test(target));
    assert.deepEqual(bad, []);
  });
}
