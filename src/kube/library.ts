/**
 * `@kubernetes/client-node` loaded on first use: importing it costs about a second of start-up, which an
 * EPP on file discovery (and every start-up error) should not pay. `loadKubeClient` (client.ts) awaits
 * `loadKubeLibrary()`; code that holds a client reads `kubeLibrary()`.
 */
type KubeLibrary = typeof import('@kubernetes/client-node');

let library: KubeLibrary | undefined;

export async function loadKubeLibrary(): Promise<KubeLibrary> {
  return (library ??= await import('@kubernetes/client-node'));
}

export function kubeLibrary(): KubeLibrary {
  if (!library) throw new Error('internal: @kubernetes/client-node used before loadKubeLibrary()');
  return library;
}
