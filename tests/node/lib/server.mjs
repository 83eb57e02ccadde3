// Starts the server under test on a free port in a scratch directory:
// lunakv (LUNAKV_BIN, default target/debug/lunakv-server) or, with
// LUNAKV_TEST_TARGET=redis, a real redis-server, to check the tests
// themselves against Redis.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let got = '';
    c.once('error', () => resolve(false));
    c.on('data', (d) => {
      got += d;
      if (got.includes('\r\n')) {
        c.destroy();
        resolve(got.startsWith('+PONG'));
      }
    });
    c.once('connect', () => c.write('PING\r\n'));
  });
}

export async function startServer() {
  const redis = process.env.LUNAKV_TEST_TARGET === 'redis';
  const bin = redis
    ? 'redis-server'
    : process.env.LUNAKV_BIN || path.join(root, 'target/debug/lunakv-server');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lunakv-node-'));
  const proc = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const deadline = Date.now() + 15000;
  while (!(await ping(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${bin} did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await once(proc, 'exit');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` is true (polled every 20 ms), or fails after `ms`. */
export async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
