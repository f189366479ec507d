import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config.js';

const base = { DATA_DIR: '/tmp/tableport-unused', SIGNING_SECRET: 'a-test-secret-of-enough-length' };

describe('REDIS_CLUSTER_NODES and the queue prefix', () => {
  it('one Redis: no cluster nodes, the prefix as given', () => {
    const c = loadConfig({ ...base, QUEUE_PREFIX: 'orders' });
    assert.equal(c.redisClusterNodes, undefined);
    assert.equal(c.queuePrefix, 'orders');
  });

  it('a cluster: the seed nodes parsed, the prefix made a hash tag (once)', () => {
    const c = loadConfig({ ...base, REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,10.0.0.3:7002' });
    assert.deepEqual(c.redisClusterNodes, [
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '10.0.0.3', port: 7002 },
    ]);
    assert.equal(c.queuePrefix, '{tableport}');
    assert.equal(loadConfig({ ...base, REDIS_CLUSTER_NODES: 'h:1', QUEUE_PREFIX: '{tp}' }).queuePrefix, '{tp}');
  });

  it('refuses a node list that is not host:port pairs, and a prefix with a stray brace', () => {
    for (const bad of ['h1', 'h1:', 'h1:7000,', ':7000', 'h1:7000;h2:7001']) {
      assert.throws(
        () => loadConfig({ ...base, REDIS_CLUSTER_NODES: bad }),
        (e: unknown) => e instanceof ConfigError && /REDIS_CLUSTER_NODES/.test(e.message),
        bad,
      );
    }
    for (const bad of ['{tp', 'tp}', '{a}{b}', 'a{b}']) {
      assert.throws(
        () => loadConfig({ ...base, QUEUE_PREFIX: bad }),
        (e: unknown) => e instanceof ConfigError && /QUEUE_PREFIX/.test(e.message),
        bad,
      );
    }
  });
});
