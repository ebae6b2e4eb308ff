/** `npm start` driven as a user would: a spawned process, real config files, real ports (all ephemeral). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEMO = fileURLToPath(new URL('../../src/demo/quickstart.js', import.meta.url));
const PORTS = ['--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0'];
const dir = mkdtempSync(join(tmpdir(), 'epp-demo-e2e-'));

function start(args: string[]) {
  const child = spawn(process.execPath, [DEMO, ...PORTS, ...args], { env: { ...process.env, GATEWAY_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

test('npm start: each start-up failure exits non-zero naming its cause and the file and line, leaving nothing running', async () => {
  const typo = join(dir, 'typo.yaml');
  writeFileSync(typo, 'plugins:\n- type: queue-scorr\n');
  const badYaml = join(dir, 'bad.yaml');
  writeFileSync(badYaml, 'plugins:\n  - type: [queue-scorer\n');
  const unknownKey = join(dir, 'key.yaml');
  writeFileSync(unknownKey, 'plugins: []\nschedulingProfile: []\n');
  const cases: [string[], RegExp][] = [
    [['--config-file', typo], new RegExp(`${typo}:2: plugins\\[0\\]\\.type: unknown plugin type "queue-scorr" \\(did you mean "queue-scorer"\\?\\)`)],
    [['--config-file', badYaml], new RegExp(`${badYaml}:3:1: invalid YAML: Flow sequence`)],
    [['--config-file', unknownKey], new RegExp(`${unknownKey}:2: schedulingProfile: unknown field \\(did you mean "schedulingProfiles"\\?\\)`)],
    [['--config-file', join(dir, 'missing.yaml')], /--config-file: cannot read .*missing\.yaml": ENOENT/],
    [['--grpc-prot=1'], /flag provided but not defined: -grpc-prot \(did you mean --grpc-port\?\)/],
  ];
  await Promise.all(
    cases.map(async ([args, want]) => {
      const run = start(args);
      const code = await run.exited;
      assert.notEqual(code, 0, `${args.join(' ')} exits non-zero`);
      assert.match(run.err(), want);
      assert.doesNotMatch(run.err(), /at line \d+, column/, 'a YAML error states its location once');
    }),
  );
});

test('npm start runs the user\'s config unchanged (its own dataLayer, the inline form, a misspelled parameter warned), answers a 200 KB prompt, gives a prompt over the pods\' capacity a 400 and keeps serving, and stops on SIGINT', async () => {
  const config = join(dir, 'mine.yaml');
  writeFileSync(config, 'plugins: [{type: queue-scorer}, {type: prefix-cache-scorer, parameters: {hashBlokSize: 64}}, {type: metrics-data-source, name: src}]\ndataLayer:\n  sources: [{pluginRef: src}]\n');
  const run = start(['--config-file', config]);
  try {
    const deadline = Date.now() + 60_000;
    while (!/gateway on http:\/\/localhost:(\d+)/.test(run.out()) && Date.now() < deadline) {
      if (run.child.exitCode !== null) assert.fail(`exited: ${run.err()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const port = /gateway on http:\/\/localhost:(\d+)/.exec(run.out())![1];
    assert.match(run.err(), new RegExp(`config loaded from ${config}`));
    assert.match(run.err(), new RegExp(`${config}:1: plugin \\\\"prefix-cache-scorer\\\\" \\(prefix-cache-scorer\\): unknown parameter \\\\"hashBlokSize\\\\" \\(did you mean \\\\"hashBlockSize\\\\"\\?\\); ignored`));
    assert.match(run.err(), /endpoint added: default\/sim-0 at 127\.0\.0\.1:\d+/);
    const res = await fetch(`http://localhost:${port}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'demo-model', prompt: 'y'.repeat(200_000), max_tokens: 2 }) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens, 50_000);
    // Over the pods' capacity (16,384 blocks of 16 tokens = 262,144; this is 275,000): vLLM's 400, and the pods keep serving.
    const over = await fetch(`http://localhost:${port}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'demo-model', prompt: 'y'.repeat(1_100_000), max_tokens: 2 }) });
    assert.equal(over.status, 400);
    assert.match(await over.text(), /maximum context length/);
    const after = await fetch(`http://localhost:${port}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'demo-model', prompt: 'hello', max_tokens: 2 }) });
    assert.equal(after.status, 200);
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 0);
  } finally {
    run.child.kill('SIGKILL');
  }
});

test('npm start with examples/configs/pd.yaml: pods labelled prefill and decode, each warm-up request shows its decode pick and where the prefill ran', async () => {
  const config = fileURLToPath(new URL('../../../examples/configs/pd.yaml', import.meta.url));
  const run = start(['--config-file', config]);
  try {
    const deadline = Date.now() + 60_000;
    while (!/Try it/.test(run.out()) && Date.now() < deadline) {
      if (run.child.exitCode !== null) assert.fail(`exited: ${run.err()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(run.out(), /simulated pool: sim-0 \(prefill\) [\d.:]+, sim-1 \(prefill\) [\d.:]+, sim-2 \(decode\) [\d.:]+, sim-3 \(decode\)/);
    const lines = run.out().split('\n').filter((l) => l.startsWith('request '));
    assert.equal(lines.length, 12);
    for (const l of lines) assert.match(l, /→ sim-[23] /, `decode pods only: ${l}`);
    assert.match(lines[0]!, /prefill on sim-[01]$/, 'a long new prompt is prefilled on a prefill pod');
    assert.match(lines[1]!, /decode only$/, 'a short prompt is not');
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 0);
  } finally {
    run.child.kill('SIGKILL');
  }
});
