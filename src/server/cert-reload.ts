/**
 * `--enable-cert-reload`: tls.crt/tls.key under --cert-path are watched (directory events, so the
 * symlink swap of a mounted Secret is seen, backed by a 1 s stat poll) and a new pair goes to grpc-js as a
 * certificate provider update. New handshakes use it; connections already open keep theirs, so no stream
 * is dropped. A half-written or mismatched pair is refused with a warning and the last good pair stays.
 */
import { readFileSync, watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { createSecureContext } from 'node:tls';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';

type Listener = (update: { certificate: Buffer; privateKey: Buffer } | null) => void;

const POLL_MS = 1000;
const DEBOUNCE_MS = 50;

export class ReloadingCertificate {
  readonly #listeners = new Set<Listener>();
  readonly #certFile: string;
  readonly #keyFile: string;
  #pair: { certificate: Buffer; privateKey: Buffer };
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  /** Called after a new pair was taken (for logs and tests). */
  onReload?: (certificatePem: string) => void;

  /** `pair` is the validated pair read at start. */
  constructor(
    certPath: string,
    pair: { cert: Buffer; key: Buffer },
    private readonly log: { warn(m: string): void; info(m: string): void },
  ) {
    this.#certFile = path.join(certPath, 'tls.crt');
    this.#keyFile = path.join(certPath, 'tls.key');
    this.#pair = { certificate: pair.cert, privateKey: pair.key };
    const schedule = () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => this.reload(), DEBOUNCE_MS);
    };
    this.#watcher = watch(certPath, schedule);
    this.#watcher.on('error', () => {}); // the poll keeps working
    watchFile(this.#certFile, { interval: POLL_MS }, schedule);
    watchFile(this.#keyFile, { interval: POLL_MS }, schedule);
  }

  get certificatePem(): string {
    return this.#pair.certificate.toString('utf8');
  }

  /** Server credentials that follow this certificate. */
  credentials(): grpc.ServerCredentials {
    return grpc.experimental.createCertificateProviderServerCredentials(this, null, false);
  }

  /** Re-reads the pair now (what the watchers call). */
  reload(): void {
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(this.#certFile);
      key = readFileSync(this.#keyFile);
      createSecureContext({ cert, key }); // throws on a bad or mismatched pair
    } catch (err) {
      this.log.warn(`--cert-path: not reloading ${this.#certFile} / ${this.#keyFile}: ${err instanceof Error ? err.message : String(err)}; keeping the current certificate`);
      return;
    }
    if (cert.equals(this.#pair.certificate) && key.equals(this.#pair.privateKey)) return;
    this.#pair = { certificate: cert, privateKey: key };
    this.log.info(`--cert-path: reloaded ${this.#certFile}; new connections use it`);
    for (const l of this.#listeners) l(this.#pair);
    this.onReload?.(this.certificatePem);
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    unwatchFile(this.#certFile);
    unwatchFile(this.#keyFile);
    clearTimeout(this.#debounce);
  }

  // grpc-js CertificateProvider: identity only (no client certificates are asked for).
  addIdentityCertificateListener(listener: Listener): void {
    this.#listeners.add(listener);
    // Asynchronously: grpc-js adds its server's watcher only after this returns, and would miss the pair.
    queueMicrotask(() => this.#listeners.has(listener) && listener(this.#pair));
  }
  removeIdentityCertificateListener(listener: Listener): void {
    this.#listeners.delete(listener);
  }
  addCaCertificateListener(): void {}
  removeCaCertificateListener(): void {}
}
