import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestNames, didYouMean } from '../../src/config/did-you-mean.js';

test('did you mean: close names by edit distance, a swap counting once, case ignored; far ones are not offered', () => {
  const known = ['hashBlockSize', 'blockSizeTokens', 'maxPrefixBlocksToMatch', 'lruCapacityPerServer', 'queue-scorer', 'kv-cache-scorer', 'grpc-port', 'grpc-health-port'];
  const cases: [string, string[]][] = [
    ['hashBlokSize', ['hashBlockSize']],
    ['queue-scorr', ['queue-scorer']],
    ['grpc-prot', ['grpc-port']],
    ['HASHBLOCKSIZE', ['hashBlockSize']],
    ['blockSize', ['blockSizeTokens', 'hashBlockSize']],
    ['no-such-scorer', []],
    ['frobnicate', []],
  ];
  for (const [typed, want] of cases) assert.deepEqual(closestNames(typed, known), want, typed);
  assert.equal(didYouMean('grpc-prot', known, (s) => `--${s}`), ' (did you mean --grpc-port?)');
  assert.equal(didYouMean('blockSize', known), ' (did you mean "blockSizeTokens" or "hashBlockSize"?)');
  assert.equal(didYouMean('zzz', known), '');
});
