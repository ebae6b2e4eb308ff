import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { HealthService, ServingStatus, healthServiceDefinition, encodeHealthRequest, decodeHealthResponse, type HealthCheckRequest, type HealthCheckResponse } from '../../src/server/health.js';
import { until } from '../helpers/until.js';

const HealthClient = grpc.makeGenericClientConstructor(healthServiceDefinition, 'Health');

async function startServer(isReady: () => boolean): Promise<{ server: grpc.Server; health: HealthService; port: number }> {
  const server = new grpc.Server();
  const health = new HealthService(isReady);
  health.addTo(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, health, port };
}

function check(client: grpc.Client, service: string): Promise<HealthCheckResponse> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<HealthCheckRequest, HealthCheckResponse>(
      healthServiceDefinition.Check.path,
      encodeHealthRequest,
      decodeHealthResponse,
      { service },
      (err, res) => (err ? reject(err) : resolve(res!)),
    );
  });
}

function shutdown(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}

test('Check: status per service and readiness', async () => {
  let ready = false;
  const { server, health, port } = await startServer(() => ready);
  const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const table: Array<[string, boolean, number]> = [
      ['', false, ServingStatus.SERVING],
      ['', true, ServingStatus.SERVING],
      ['liveness', false, ServingStatus.SERVING],
      ['liveness', true, ServingStatus.SERVING],
      ['readiness', false, ServingStatus.NOT_SERVING],
      ['readiness', true, ServingStatus.SERVING],
      ['envoy.service.ext_proc.v3.ExternalProcessor', false, ServingStatus.NOT_SERVING],
      ['envoy.service.ext_proc.v3.ExternalProcessor', true, ServingStatus.SERVING],
    ];
    for (const [service, isReady, want] of table) {
      ready = isReady;
      const res = await check(client, service);
      assert.equal(res.status, want, `service=${JSON.stringify(service)} ready=${isReady}`);
    }
  } finally {
    client.close();
    health.close();
    await shutdown(server);
  }
});

test('Check: unknown service → NOT_FOUND', async () => {
  const { server, health, port } = await startServer(() => true);
  const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    await assert.rejects(check(client, 'nope'), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.NOT_FOUND);
      assert.equal(err.details, 'unknown service nope');
      return true;
    });
  } finally {
    client.close();
    health.close();
    await shutdown(server);
  }
});

test('Watch: current status at once, an update after notify(), ended by close()', async () => {
  let ready = false;
  const { server, health, port } = await startServer(() => ready);
  const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  let stream: grpc.ClientReadableStream<HealthCheckResponse> | undefined;
  try {
    const got: number[] = [];
    let ended = false;
    let error: grpc.ServiceError | undefined;
    let finalStatus: grpc.StatusObject | undefined;
    stream = client.makeServerStreamRequest<HealthCheckRequest, HealthCheckResponse>(
      healthServiceDefinition.Watch.path,
      encodeHealthRequest,
      decodeHealthResponse,
      { service: 'readiness' },
    );
    stream.on('data', (res: HealthCheckResponse) => got.push(res.status ?? 0));
    stream.on('end', () => (ended = true));
    stream.on('error', (err: grpc.ServiceError) => (error = err));
    stream.on('status', (s: grpc.StatusObject) => (finalStatus = s));

    await until(() => got.length === 1, 'first Watch update');
    assert.deepEqual(got, [ServingStatus.NOT_SERVING]);

    health.notify(); // unchanged: nothing sent
    ready = true;
    health.notify();
    health.notify(); // unchanged again
    await until(() => got.length >= 2, 'second Watch update');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, [ServingStatus.NOT_SERVING, ServingStatus.SERVING]);

    health.close();
    await until(() => ended && finalStatus !== undefined, 'Watch stream end');
    assert.equal(error, undefined);
    assert.equal(finalStatus!.code, grpc.status.OK);
  } finally {
    stream?.cancel();
    client.close();
    health.close();
    await shutdown(server);
  }
});

test('Watch: unknown service → SERVICE_UNKNOWN', async () => {
  const { server, health, port } = await startServer(() => true);
  const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  let stream: grpc.ClientReadableStream<HealthCheckResponse> | undefined;
  try {
    const got: number[] = [];
    stream = client.makeServerStreamRequest<HealthCheckRequest, HealthCheckResponse>(
      healthServiceDefinition.Watch.path,
      encodeHealthRequest,
      decodeHealthResponse,
      { service: 'nope' },
    );
    stream.on('data', (res: HealthCheckResponse) => got.push(res.status ?? 0));
    stream.on('error', () => {});
    await until(() => got.length === 1, 'Watch update');
    assert.deepEqual(got, [ServingStatus.SERVICE_UNKNOWN]);
  } finally {
    stream?.cancel();
    client.close();
    health.close();
    await shutdown(server);
  }
});
