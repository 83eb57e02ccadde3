// node-redis against the server, in RESP2 and in RESP3 (HELLO 3): typed
// replies (maps, doubles, nulls), scripts defined on the client
// (EVALSHA, falling back to EVAL), MULTI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, defineScript } from 'redis';
import { startServer } from '../lib/server.mjs';

let server;
const clients = [];
async function client(opts = {}) {
  const c = createClient({ socket: { host: '127.0.0.1', port: server.port }, ...opts });
  c.on('error', () => {});
  await c.connect();
  clients.push(c);
  return c;
}

before(async () => {
  server = await startServer();
});
after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await server.stop();
});

const incrBy = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
  parseCommand(parser, key, by) {
    parser.pushKey(key);
    parser.push(String(by));
  },
  transformReply: undefined,
});

for (const resp of [2, 3]) {
  test(`RESP${resp}: commands, scripts and MULTI`, async () => {
    const r = await client({ RESP: resp, scripts: { incrBy } });
    const p = `r${resp}:`;
    assert.equal(await r.set(`${p}k`, 'v'), 'OK');
    assert.equal(await r.get(`${p}k`), 'v');
    assert.equal(await r.get(`${p}missing`), null);
    await r.hSet(`${p}h`, { a: '1', b: '2' });
    assert.deepEqual({ ...(await r.hGetAll(`${p}h`)) }, { a: '1', b: '2' });
    await r.zAdd(`${p}z`, [
      { score: 1.5, value: 'm1' },
      { score: 2, value: 'm2' },
    ]);
    assert.deepEqual(await r.zRangeWithScores(`${p}z`, 0, -1), [
      { value: 'm1', score: 1.5 },
      { value: 'm2', score: 2 },
    ]);
    assert.equal(await r.incrBy(`${p}n`, 5), 5);
    assert.equal(await r.incrBy(`${p}n`, 2), 7);
    await r.scriptFlush();
    assert.equal(await r.incrBy(`${p}n`, 1), 8);
    assert.deepEqual(await r.eval("return {KEYS[1], ARGV[1], 3}", { keys: ['a'], arguments: ['b'] }), ['a', 'b', 3]);
    assert.deepEqual(await r.multi().set(`${p}m`, '1').incr(`${p}m`).exec(), ['OK', 2]);
    await assert.rejects(r.eval("return redis.error_reply('MY err')"), /MY err/);
  });
}

test('RESP3: HELLO 3 and typed script replies', async () => {
  const r = await client({ RESP: 3 });
  const hello = await r.hello();
  assert.equal(hello.proto ?? hello.get?.('proto'), 3);
  // A script in RESP3 mode returns a map, a double and a boolean as such.
  const m = await r.eval("redis.setresp(3) return {map={a=1}}");
  assert.deepEqual({ ...m }, { a: 1 });
  assert.equal(await r.eval("redis.setresp(3) return {double=3.5}"), 3.5);
  assert.equal(await r.eval("redis.setresp(3) return true"), true);
  // Replies of commands called from a RESP3 script convert back to RESP3.
  await r.hSet('r3:hh', 'f', 'v');
  const back = await r.eval("redis.setresp(3) return redis.call('HGETALL', KEYS[1])", { keys: ['r3:hh'] });
  assert.deepEqual({ ...back }, { f: 'v' });
});
