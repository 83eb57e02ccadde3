// BullMQ, a job queue built on Lua scripts (its queue operations are ~50
// scripts using cmsgpack, streams, sorted sets and EVALSHA), run on the
// server: plain, bulk, delayed, prioritised and retried jobs, flows
// (parent and child), progress, events and a job scheduler.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowProducer, Queue, QueueEvents, Worker } from 'bullmq';
import { startServer, until } from '../lib/server.mjs';

let server;
let connection;

before(async () => {
  server = await startServer();
  connection = { host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null };
});
after(async () => {
  await server.stop();
});

test('jobs of every kind run to completion', async () => {
  const queue = new Queue('kinds', { connection });
  const events = new QueueEvents('kinds', { connection });
  await events.waitUntilReady();
  const flows = new FlowProducer({ connection });
  const done = [];
  const eventsSeen = [];
  events.on('completed', ({ jobId }) => eventsSeen.push(jobId));
  let flakyRuns = 0;
  const worker = new Worker(
    'kinds',
    async (job) => {
      if (job.name === 'flaky' && ++flakyRuns < 2) throw new Error('boom');
      if (job.name === 'parent') {
        const children = Object.values(await job.getChildrenValues());
        return job.data.x + children.reduce((a, b) => a + b, 0);
      }
      await job.updateProgress(50);
      return job.data.x * 2;
    },
    { connection, concurrency: 4 },
  );
  worker.on('completed', (job, result) => done.push([job.name, result]));
  try {
    const a = await queue.add('a', { x: 1 });
    await queue.addBulk([
      { name: 'b', data: { x: 2 } },
      { name: 'c', data: { x: 3 } },
    ]);
    await queue.add('delayed', { x: 4 }, { delay: 300 });
    await queue.add('flaky', { x: 5 }, { attempts: 3, backoff: { type: 'fixed', delay: 100 } });
    await queue.add('prio', { x: 6 }, { priority: 5 });
    await flows.add({
      name: 'parent',
      queueName: 'kinds',
      data: { x: 7 },
      children: [{ name: 'child', queueName: 'kinds', data: { x: 8 } }],
    });
    await until(() => done.length === 8, 15000, 'eight completed jobs');
    assert.deepEqual(done.sort(), [
      ['a', 2],
      ['b', 4],
      ['c', 6],
      ['child', 16],
      ['delayed', 8],
      ['flaky', 10],
      ['parent', 23],
      ['prio', 12],
    ]);
    assert.equal(flakyRuns, 2);
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'delayed', 'active');
    assert.deepEqual(counts, { completed: 8, failed: 0, waiting: 0, delayed: 0, active: 0 });
    const job = await queue.getJob(a.id);
    assert.equal(await job.getState(), 'completed');
    assert.equal(job.returnvalue, 2);
    assert.equal(job.progress, 50);
    await until(() => eventsSeen.length === 8, 5000, 'eight completed events');
  } finally {
    await worker.close();
    await flows.close();
    await events.close();
    await queue.close();
  }
});

test('failed jobs, a paused queue and a job scheduler', async () => {
  const queue = new Queue('sched', { connection });
  const runs = [];
  const worker = new Worker(
    'sched',
    async (job) => {
      runs.push(job.name);
      if (job.name === 'bad') throw new Error('always');
      return 'ok';
    },
    { connection },
  );
  try {
    await queue.add('bad', {}, { attempts: 2 });
    await until(async () => (await queue.getJobCounts('failed')).failed === 1, 10000, 'the failed job');
    const [failed] = await queue.getFailed();
    assert.equal(failed.failedReason, 'always');
    assert.equal(failed.attemptsMade, 2);

    await queue.pause();
    assert.equal(await queue.isPaused(), true);
    await queue.add('while-paused', {});
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!runs.includes('while-paused'));
    await queue.resume();
    await until(() => runs.includes('while-paused'), 5000, 'the job added while paused');

    await queue.upsertJobScheduler('every-200ms', { every: 200 }, { name: 'tick' });
    await until(() => runs.filter((n) => n === 'tick').length >= 3, 10000, 'three scheduled runs');
    assert.equal(await queue.removeJobScheduler('every-200ms'), true);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
});
