// ioredis against the server: commands and replies as ioredis decodes
// them, pipelines, MULTI/WATCH, custom Lua commands (EVALSHA with its
// NOSCRIPT -> EVAL fallback), pub/sub, blocking pops, SCAN streams.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startServer, until } from '../lib/server.mjs';

let server;
const clients = [];
function client(opts = {}) {
  const c = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: false, ...opts });
  clients.push(c);
  return c;
}

before(async () => {
  server = await startServer();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await server.stop();
});

test('strings, hashes, lists, sorted sets and expiry', async () => {
  const r = client();
  await r.flushall();
  assert.equal(await r.set('s', 'v'), 'OK');
  assert.equal(await r.get('s'), 'v');
  assert.equal(await r.get('missing'), null);
  assert.equal(await r.incrby('n', 5), 5);
  assert.equal(await r.hset('h', { a: '1', b: '2' }), 2);
  assert.deepEqual(await r.hgetall('h'), { a: '1', b: '2' });
  assert.equal(await r.rpush('l', 'x', 'y', 'z'), 3);
  assert.deepEqual(await r.lrange('l', 0, -1), ['x', 'y', 'z']);
  assert.equal(await r.zadd('z', 1.5, 'm1', 2, 'm2'), 2);
  assert.deepEqual(await r.zrange('z', 0, -1, 'WITHSCORES'), ['m1', '1.5', 'm2', '2']);
  assert.equal(await r.expire('s', 100), 1);
  const ttl = await r.ttl('s');
  assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
  await assert.rejects(r.incr('s'), /ERR value is not an integer or out of range/);
  await assert.rejects(r.lpush('s', 'x'), /WRONGTYPE Operation against a key holding the wrong kind of value/);
});

test('a pipeline of 1000 commands and MULTI/EXEC with WATCH', async () => {
  const r = client();
  const p = r.pipeline();
  for (let i = 0; i < 1000; i++) p.incr('pipe');
  const res = await p.exec();
  assert.equal(res.length, 1000);
  assert.deepEqual(res[999], [null, 1000]);
  assert.deepEqual(await r.multi().set('m', '1').incr('m').get('m').exec(), [
    [null, 'OK'],
    [null, 2],
    [null, '2'],
  ]);
  const other = client();
  await r.watch('w');
  await other.set('w', 'changed');
  assert.equal(await r.multi().set('w', 'mine').exec(), null);
  assert.equal(await r.get('w'), 'changed');
});

test('a custom Lua command: rate limiter over EVALSHA, NOSCRIPT fallback after SCRIPT FLUSH', async () => {
  const r = client();
  r.defineCommand('limit', {
    numberOfKeys: 1,
    lua: `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then return 0 end
return 1`,
  });
  const got = [];
  for (let i = 0; i < 5; i++) got.push(await r.limit('rl:user', 60, 3));
  assert.deepEqual(got, [1, 1, 1, 0, 0]);
  const ttl = await r.ttl('rl:user');
  assert.ok(ttl > 50 && ttl <= 60, `ttl ${ttl}`);
  await r.script('FLUSH');
  assert.equal(await r.limit('rl:other', 60, 3), 1);
});

test('script replies, errors and the bundled libraries', async () => {
  const r = client();
  assert.deepEqual(await r.eval("return {1, 'two', {3}, redis.status_reply('OK')}", 0), [1, 'two', [3], 'OK']);
  await assert.rejects(r.eval("return redis.error_reply('MY err')", 0), (e) => e.message === 'MY err');
  await assert.rejects(r.eval("return redis.call('nosuchcommand')", 0), /Unknown Redis command called from script/);
  assert.equal(
    await r.eval("return cjson.encode(cjson.decode(ARGV[1]))", 0, '{"a":[1,2,3]}'),
    '{"a":[1,2,3]}',
  );
  assert.equal(await r.eval('return cmsgpack.unpack(cmsgpack.pack(ARGV[1]))', 0, 'héllo'), 'héllo');
  assert.equal(await r.eval('return bit.band(0xff, 0x0f)', 0), 15);
  await assert.rejects(r.eval('x = 1', 0), /Attempt to modify a readonly table/);
});

test('pub/sub and a blocking pop served by another client', async () => {
  const sub = client();
  const pub = client();
  const got = [];
  sub.on('message', (ch, msg) => got.push([ch, msg]));
  assert.equal(await sub.subscribe('news'), 1);
  assert.equal(await pub.publish('news', 'hello'), 1);
  await until(() => got.length === 1, 5000, 'the message');
  assert.deepEqual(got, [['news', 'hello']]);

  const waiter = client();
  const popped = waiter.blpop('queue', 5);
  await until(async () => (await pub.client('LIST')).includes('cmd=blpop'), 5000, 'BLPOP to block');
  await pub.rpush('queue', 'job');
  assert.deepEqual(await popped, ['queue', 'job']);
});

test('scanStream walks every key', async () => {
  const r = client();
  const p = r.pipeline();
  for (let i = 0; i < 500; i++) p.set(`scan:${i}`, i);
  await p.exec();
  const seen = new Set();
  for await (const keys of r.scanStream({ match: 'scan:*', count: 50 })) for (const k of keys) seen.add(k);
  assert.equal(seen.size, 500);
});
