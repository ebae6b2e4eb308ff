/**
 * Leader election on a `coordination.k8s.io/v1` Lease, with client-go's rules: a lease held by someone
 * else is respected until `leaseDurationSeconds` have passed since this process last saw it change (local
 * time, so clock skew between nodes does not matter); the leader renews every retry period and steps down
 * when it could not renew within the renew deadline; updates carry the resourceVersion read (a conflict
 * loses the round). Times are written as MicroTime (6 fractional digits). `stop()` releases a held lease
 * (empty holder, 1 s duration) so a standby takes over at its next retry instead of a lease period later.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { kubeLibrary } from './library.js';
import type { KubeClient } from './client.js';
import { describeError, statusOf } from './client.js';

export interface LeaderElectionOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly leaseName: string;
  /** Unique per process; see `defaultIdentity`. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly log: { info(message: string): void; warn(message: string): void };
  /** Called when this process becomes leader, and when it stops being leader. */
  readonly onChange?: (leader: boolean) => void;
}

/** controller-runtime's defaults. */
export const LEASE_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** `$POD_NAME` (or the host name) plus a random suffix: two processes never share an identity. */
export const defaultIdentity = () => `${process.env['POD_NAME'] || hostname()}_${randomUUID()}`;

const micro = (ms: number) => new (kubeLibrary().V1MicroTime)(ms);

export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  readonly #durationMs: number;
  readonly #deadlineMs: number;
  readonly #retryMs: number;
  #leader = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  /** The lease as last read, and when (local time) its holder or renew time last changed. */
  #observed: { holder: string; renew: string; at: number } | undefined;
  #lastRenew = 0;
  #loop: Promise<void> = Promise.resolve();

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
    this.#durationMs = options.leaseDurationMs ?? LEASE_DEFAULTS.leaseDurationMs;
    this.#deadlineMs = options.renewDeadlineMs ?? LEASE_DEFAULTS.renewDeadlineMs;
    this.#retryMs = options.retryPeriodMs ?? LEASE_DEFAULTS.retryPeriodMs;
  }

  get isLeader(): boolean {
    return this.#leader;
  }
  get identity(): string {
    return this.#o.identity;
  }

  start(): void {
    this.#loop = this.#run();
  }

  /** Stops trying; a leader releases the lease. Waits for an attempt in flight first, so a renewal that just landed is released too. */
  async stop(): Promise<void> {
    if (this.#stopped) return this.#loop;
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    await this.#loop;
    if (this.#leader) {
      await this.#release();
      this.#setLeader(false);
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const ok = await this.#tryAcquireOrRenew();
      const now = Date.now();
      if (ok) {
        this.#lastRenew = now;
        if (!this.#leader && !this.#stopped) {
          this.#o.log.info(`became leader (lease ${this.#o.namespace}/${this.#o.leaseName}, identity ${this.#o.identity})`);
          this.#setLeader(true);
        }
      } else if (this.#leader && now - this.#lastRenew > this.#deadlineMs) {
        this.#o.log.warn(`lost leadership: lease ${this.#o.namespace}/${this.#o.leaseName} not renewed within ${this.#deadlineMs} ms; standing by`);
        this.#setLeader(false);
      }
      if (this.#stopped) break;
      // client-go jitters the standby's retry by up to 20 %; the leader renews on the period.
      const wait = this.#leader ? this.#retryMs : this.#retryMs * (1 + Math.random() * 0.2);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, wait);
      });
    }
  }

  #setLeader(leader: boolean): void {
    if (this.#leader === leader) return;
    this.#leader = leader;
    try {
      this.#o.onChange?.(leader);
    } catch (err) {
      this.#o.log.warn(`a leadership listener failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #spec(previous: V1LeaseSpec | undefined, now: number): V1LeaseSpec {
    const renewing = previous?.holderIdentity === this.#o.identity;
    return {
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: Math.max(1, Math.round(this.#durationMs / 1000)),
      acquireTime: renewing && previous?.acquireTime ? previous.acquireTime : micro(now),
      renewTime: micro(now),
      // client-go counts every change of holder, a released (empty) holder included; a new lease starts at 0.
      leaseTransitions: previous === undefined ? 0 : renewing ? (previous.leaseTransitions ?? 0) : (previous.leaseTransitions ?? 0) + 1,
    };
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, leaseName: name } = this.#o;
    const now = Date.now();
    let lease: V1Lease;
    try {
      lease = await client.coordination.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (statusOf(err) !== 404) {
        this.#o.log.warn(`reading lease ${namespace}/${name} failed: ${describeError(err)}`);
        return false;
      }
      try {
        await client.coordination.createNamespacedLease({ namespace, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: this.#spec(undefined, now) } });
        return true;
      } catch (createErr) {
        if (statusOf(createErr) !== 409) this.#o.log.warn(`creating lease ${namespace}/${name} failed: ${describeError(createErr)}`);
        return false;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renew = String(spec.renewTime ?? '');
    if (!this.#observed || this.#observed.holder !== holder || this.#observed.renew !== renew) this.#observed = { holder, renew, at: now };
    const durationMs = (spec.leaseDurationSeconds ?? this.#durationMs / 1000) * 1000;
    if (holder !== '' && holder !== this.#o.identity && this.#observed.at + durationMs > now) return false;
    try {
      await client.coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: this.#spec(spec, now) } });
      return true;
    } catch (err) {
      if (statusOf(err) !== 409) this.#o.log.warn(`updating lease ${namespace}/${name} failed: ${describeError(err)}`);
      return false;
    }
  }

  async #release(): Promise<void> {
    const { client, namespace, leaseName: name } = this.#o;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const lease = await client.coordination.readNamespacedLease({ name, namespace });
        if (lease.spec?.holderIdentity !== this.#o.identity) return; // someone else holds it already
        const now = Date.now();
        await client.coordination.replaceNamespacedLease({
          name,
          namespace,
          body: { ...lease, spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: micro(now), renewTime: micro(now), leaseTransitions: lease.spec.leaseTransitions ?? 0 } },
        });
        this.#o.log.info(`released lease ${namespace}/${name}`);
        return;
      } catch (err) {
        if (statusOf(err) !== 409 || attempt === 2) {
          this.#o.log.warn(`releasing lease ${namespace}/${name} failed: ${describeError(err)}; the standby takes over when it expires`);
          return;
        }
      }
    }
  }
}
