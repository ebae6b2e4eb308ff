/**
 * Access to the Kubernetes API server through `@kubernetes/client-node`: where the credentials come from
 * (`--kubeconfig`, else $KUBECONFIG, the in-cluster service account, ~/.kube/config, as client-go looks)
 * and the few API groups the EPP calls.
 */
import type { AuthenticationV1Api, AuthorizationV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { ConfigError } from '../errors.js';
import { kubeLibrary, loadKubeLibrary } from './library.js';

export interface KubeClient {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  readonly authentication: AuthenticationV1Api;
  readonly authorization: AuthorizationV1Api;
  readonly watch: Watch;
  /** The API server's URL, for log lines. */
  readonly server: string;
}

export function loadKubeConfig(kubeconfig: string): KubeConfig {
  const kc = new (kubeLibrary().KubeConfig)();
  try {
    if (kubeconfig) kc.loadFromFile(kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new ConfigError('--kubeconfig', `cannot load ${kubeconfig ? `"${kubeconfig}"` : 'the Kubernetes client configuration'}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!kc.getCurrentCluster()) {
    throw new ConfigError('--kubeconfig', 'no Kubernetes cluster configured (not running in a pod, no $KUBECONFIG and no ~/.kube/config); give --kubeconfig');
  }
  return kc;
}

const clients = new Map<string, KubeClient>();

/** One client per kubeconfig path per process, the client library loaded on the first call. */
export async function loadKubeClient(kubeconfig = ''): Promise<KubeClient> {
  await loadKubeLibrary();
  let c = clients.get(kubeconfig);
  if (!c) {
    const { AuthenticationV1Api, AuthorizationV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, Watch } = kubeLibrary();
    const kc = loadKubeConfig(kubeconfig);
    c = {
      config: kc,
      core: kc.makeApiClient(CoreV1Api),
      custom: kc.makeApiClient(CustomObjectsApi),
      coordination: kc.makeApiClient(CoordinationV1Api),
      authentication: kc.makeApiClient(AuthenticationV1Api),
      authorization: kc.makeApiClient(AuthorizationV1Api),
      watch: new Watch(kc),
      server: kc.getCurrentCluster()!.server,
    };
    clients.set(kubeconfig, c);
  }
  return c;
}

/** The HTTP status of a failed API call (ApiException `code`, Watch `statusCode`), or undefined. */
export function statusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  if (e && typeof e.code === 'number') return e.code;
  if (e && typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const describeError = (err: unknown): string => {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  return status !== undefined && !message.includes(String(status)) ? `HTTP ${status}: ${message}` : message;
};
