/** The README's three-terminal setup: `npm run sim` + `epp` + `epp-gateway`, each a spawned process, routing a request. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = (p: string) => fileURLToPath(new URL(`../../src/${p}`, import.meta.url));
const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));

function run(script: string, args: string[]) {
  const child = spawn(process.execPath, [dist(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const text = { out: '', err: '' };
  child.stdout!.on('data', (c: Buffer) => (text.out += c));
  child.stderr!.on('data', (c: Buffer) => (text.err += c));
  return { child, text };
}

async function waitFor(get: () => string, re: RegExp, what: string, child: ChildProcess): Promise<RegExpExecArray> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = re.exec(get());
    if (m) return m;
    if (child.exitCode !== null || Date.now() > deadline) assert.fail(`${what}: ${get()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('npm run sim + epp --config-file (the example config) + epp-gateway route a curl-style request; --version prints the version', async () => {
  const procs: ChildProcess[] = [];
  try {
    const version = run('main.js', ['-version']);
    procs.push(version.child);
    await new Promise((r) => version.child.on('exit', r));
    assert.match(version.text.out, /^epp \d+\.\d+\.\d+ \(epp-ts\)\n$/);

    const sim = run('sim/cli.js', ['--count=2']);
    procs.push(sim.child);
    await waitFor(() => sim.text.out, /sim-1 http:\/\/127\.0\.0\.1:\d+/, 'the simulator', sim.child);
    const ports = [...sim.text.out.matchAll(/(sim-\d) http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => [m[1]!, m[2]!]);
    // The example files, with the simulator's ephemeral ports instead of 8000.. and an absolute endpoints path.
    const dir = mkdtempSync(join(tmpdir(), 'epp-three-'));
    const endpoints = join(dir, 'endpoints.yaml');
    writeFileSync(endpoints, `endpoints:\n${ports.map(([name, port]) => `- {name: ${name}, address: 127.0.0.1, port: ${port}}`).join('\n')}\n`);
    assert.match(readFileSync(join(examples, 'endpoints.yaml'), 'utf8'), /port: 8000/);
    const config = join(dir, 'epp-config.yaml');
    writeFileSync(config, readFileSync(join(examples, 'epp-config.yaml'), 'utf8').replace('path: examples/endpoints.yaml', `path: ${JSON.stringify(endpoints)}`));

    const epp = run('main.js', ['--config-file', config, '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0']);
    procs.push(epp.child);
    const grpcPort = (await waitFor(() => epp.text.err, /"grpcPort":(\d+)/, 'the EPP', epp.child))[1];
    assert.match(epp.text.err, /endpoint added: default\/sim-0/);

    const gw = run('gateway/cli.js', ['--port=0', `--epp=localhost:${grpcPort}`]);
    procs.push(gw.child);
    const gwPort = (await waitFor(() => gw.text.out, /epp-gateway on http:\/\/127\.0\.0\.1:(\d+)/, 'the gateway', gw.child))[1];
    assert.match(gw.text.out, /TLS, certificate not verified/);

    const res = await fetch(`http://127.0.0.1:${gwPort}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hello' }] }) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.ok(ports.some(([, port]) => res.headers.get('x-gateway-destination-endpoint') === `127.0.0.1:${port}`));
    assert.equal(((await res.json()) as { object: string }).object, 'chat.completion');

    const unknown = await fetch(`http://127.0.0.1:${gwPort}/v1/nowhere`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"sim-model"}' });
    const why = await unknown.text();
    assert.equal(unknown.status, 400);
    assert.match(why, /^inference error: BadRequest - unknown path "\/v1\/nowhere" \(known: \/v1\/completions, /, why);
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
});
