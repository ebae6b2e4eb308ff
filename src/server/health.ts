/**
 * gRPC health checking (grpc.health.v1.Health: Check and Watch), served next to ext_proc. The service
 * definition is built by hand from the protobufjs types (no proto-loader).
 *
 *   "", "liveness"                                           → SERVING always
 *   "readiness", "envoy.service.ext_proc.v3.ExternalProcessor" → SERVING when ready, else NOT_SERVING
 *   anything else                                            → Check: NOT_FOUND; Watch: SERVICE_UNKNOWN
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { EXT_PROC_SERVICE, loadProtos } from '../extproc/codec.js';

const root = loadProtos(['grpc/health/v1/health.proto']);
const HealthCheckRequestType = root.lookupType('grpc.health.v1.HealthCheckRequest');
const HealthCheckResponseType = root.lookupType('grpc.health.v1.HealthCheckResponse');

export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
export type ServingStatusValue = (typeof ServingStatus)[keyof typeof ServingStatus];

export interface HealthCheckRequest {
  service?: string;
}
export interface HealthCheckResponse {
  status?: number;
}

export const HEALTH_SERVICE = 'grpc.health.v1.Health';

function encoder(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    const bytes = type.encode(type.create(value)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}
function decoder<T>(type: protobuf.Type): (bytes: Buffer) => T {
  return (bytes) => type.toObject(type.decode(bytes), { enums: Number, defaults: true }) as T;
}

export const encodeHealthRequest = encoder(HealthCheckRequestType) as (value: HealthCheckRequest) => Buffer;
export const decodeHealthRequest = decoder<HealthCheckRequest>(HealthCheckRequestType);
export const encodeHealthResponse = encoder(HealthCheckResponseType) as (value: HealthCheckResponse) => Buffer;
export const decodeHealthResponse = decoder<HealthCheckResponse>(HealthCheckResponseType);

/** The grpc-js service definition for grpc.health.v1.Health (usable for servers and, via makeGenericClientConstructor, clients). */
export const healthServiceDefinition = {
  Check: {
    path: `/${HEALTH_SERVICE}/Check`,
    originalName: 'check',
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeHealthRequest,
    requestDeserialize: decodeHealthRequest,
    responseSerialize: encodeHealthResponse,
    responseDeserialize: decodeHealthResponse,
  },
  Watch: {
    path: `/${HEALTH_SERVICE}/Watch`,
    originalName: 'watch',
    requestStream: false,
    responseStream: true,
    requestSerialize: encodeHealthRequest,
    requestDeserialize: decodeHealthRequest,
    responseSerialize: encodeHealthResponse,
    responseDeserialize: decodeHealthResponse,
  },
} satisfies grpc.ServiceDefinition;

interface Watcher {
  call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;
  service: string;
  last: ServingStatusValue;
}

export class HealthService {
  private readonly watchers = new Set<Watcher>();
  private closed = false;

  constructor(
    private readonly isReady: () => boolean,
    /** With leader election the overall status ("") is readiness, as the Go EPP answers it (a load balancer should find the leader). */
    private readonly options: { overallIsReadiness?: boolean } = {},
  ) {}

  /** The status for a service name, or undefined for an unknown one. */
  statusOf(service: string): ServingStatusValue | undefined {
    switch (service) {
      case '':
        return this.options.overallIsReadiness ? this.statusOf('readiness') : ServingStatus.SERVING;
      case 'liveness':
        return ServingStatus.SERVING;
      case 'readiness':
      case 'inference-extension': // the service name the Go EPP's Helm chart probes with one replica
      case EXT_PROC_SERVICE:
        return this.ready() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
      default:
        return undefined;
    }
  }

  addTo(server: grpc.Server): void {
    const implementation: grpc.UntypedServiceImplementation = {
      Check: (call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: grpc.sendUnaryData<HealthCheckResponse>) => {
        const service = call.request.service ?? '';
        const status = this.statusOf(service);
        if (status === undefined) {
          callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${service}` }, null);
          return;
        }
        callback(null, { status });
      },
      Watch: (call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const service = call.request.service ?? '';
        const status = this.statusOf(service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (this.closed) {
          call.write({ status });
          call.end();
          return;
        }
        const watcher: Watcher = { call, service, last: status };
        this.watchers.add(watcher);
        const drop = (): void => {
          this.watchers.delete(watcher);
        };
        call.on('cancelled', drop);
        call.on('close', drop);
        call.on('error', drop);
        call.write({ status });
      },
    };
    server.addService(healthServiceDefinition, implementation);
  }

  /** Re-evaluates readiness and sends a Watch update to every stream whose status changed. */
  notify(): void {
    for (const watcher of this.watchers) {
      const status = this.statusOf(watcher.service) ?? ServingStatus.SERVICE_UNKNOWN;
      if (status === watcher.last) continue;
      watcher.last = status;
      if (watcher.call.cancelled || watcher.call.destroyed) {
        this.watchers.delete(watcher);
        continue;
      }
      watcher.call.write({ status });
    }
  }

  /** Ends all Watch streams (with OK); later Watch calls get one status and end at once. */
  close(): void {
    this.closed = true;
    for (const watcher of this.watchers) {
      if (!watcher.call.cancelled && !watcher.call.destroyed) watcher.call.end();
    }
    this.watchers.clear();
  }

  private ready(): boolean {
    try {
      return this.isReady();
    } catch {
      return false;
    }
  }
}
