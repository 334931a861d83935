// The benchmark's JS client: the AgentMailbox class of the agentsmcp npm package (the SDK that ships with the
// reference server), run as a worker: one JSON command per stdin line, one JSON result per stdout line.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { performance } = require('perf_hooks');

const refserver = process.argv[2] || path.join(__dirname, '..', '..', 'tools', 'refserver');
const { AgentMailbox } = require(require.resolve('agentsmcp', { paths: [refserver] }));

function memory(field) {
  const match = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp('^' + field + ':\\s+(\\d+)', 'm'));
  return match ? Number(match[1]) : -1;
}

function cpuSince(start) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function resetPeak() {
  try { fs.writeFileSync('/proc/self/clear_refs', '5'); } catch { /* not Linux, or not allowed */ }
}

const workloads = {
  // W1: n sequential sends a -> b, a small payload and a context snapshot each.
  async W1({ server, prefix, n }) {
    const a = new AgentMailbox({ agentId: `${prefix}-a`, server });
    await a.connect();
    const start = performance.now(); const cpu = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      await a.send(`${prefix}-b`, { task: 'summarize', n: i }, { contextSnapshot: { step: 'research', count: i } });
    }
    return { ms: performance.now() - start, cpuMs: cpuSince(cpu) };
  },

  // W2: n sends a -> b with cc c, d and bcc e, then b reads its inbox.
  async W2({ server, prefix, n }) {
    const a = new AgentMailbox({ agentId: `${prefix}-a`, server });
    const b = new AgentMailbox({ agentId: `${prefix}-b`, server });
    await a.connect();
    await b.connect();
    const options = (i) => ({ contextSnapshot: { step: 'research', count: i }, cc: [`${prefix}-c`, `${prefix}-d`], bcc: [`${prefix}-e`] });
    const start = performance.now(); const cpu = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      await a.send(`${prefix}-b`, { task: 'summarize', n: i }, options(i));
    }
    const inbox = await b.unread();
    return { ms: performance.now() - start, cpuMs: cpuSince(cpu), count: inbox.length };
  },

  // W3: one read of a large inbox (the SDK buffers the whole body, so the first object is the last).
  async W3({ server, reader }) {
    const mailbox = new AgentMailbox({ agentId: reader, server });
    if (global.gc) global.gc();
    resetPeak();
    const baselineKB = memory('VmRSS');
    const start = performance.now(); const cpu = process.cpuUsage();
    const inbox = await mailbox.unread();
    const ms = performance.now() - start;
    return { ms, cpuMs: cpuSince(cpu), firstMs: ms, count: inbox.length, baselineKB, peakKB: memory('VmHWM') };
  },

  // W4: n reply-alls by b on one thread a -> b cc c, d.
  async W4({ server, prefix, n }) {
    const a = new AgentMailbox({ agentId: `${prefix}-a`, server });
    const b = new AgentMailbox({ agentId: `${prefix}-b`, server });
    await b.connect();
    const first = await a.send(`${prefix}-b`, { task: 'start', n: 0 }, { contextSnapshot: { step: 'research', count: 0 }, cc: [`${prefix}-c`, `${prefix}-d`] });
    const start = performance.now(); const cpu = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      await b.replyAll(first.threadId, { task: 'ack', n: i }, { contextSnapshot: { step: 'review', count: i } });
    }
    return { ms: performance.now() - start, cpuMs: cpuSince(cpu) };
  },

  // W5, fan-out: n sequential sends from a to 50 agents (message i to agent i mod 50: 50 threads).
  async W5({ server, prefix, n }) {
    const a = new AgentMailbox({ agentId: `${prefix}-a`, server });
    await a.connect();
    const start = performance.now(); const cpu = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      await a.send(`${prefix}-r${String(i % 50).padStart(2, '0')}`, { task: 'summarize', n: i }, { contextSnapshot: { step: 'research', count: i } });
    }
    return { ms: performance.now() - start, cpuMs: cpuSince(cpu) };
  },

  async hello() { return { pid: process.pid }; },
};

const lines = readline.createInterface({ input: process.stdin, terminal: false });
let queue = Promise.resolve();
lines.on('line', (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let result;
    try {
      const command = JSON.parse(line);
      if (command.op === 'quit') process.exit(0);
      const run = workloads[command.op];
      if (!run) throw new Error(`unknown op ${command.op}`);
      result = { ok: true, ...(await run(command)) };
    } catch (error) {
      result = { ok: false, error: String(error && error.message || error) };
    }
    process.stdout.write(JSON.stringify(result) + '\n');
  });
});
lines.on('close', () => { queue.then(() => process.exit(0)); });
