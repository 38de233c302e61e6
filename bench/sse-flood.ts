import { mkdtempSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished, makeJobsDir, startFarm } from "../test/helpers/farm.ts";
import { findTestPython } from "../test/helpers/python.ts";
import { machineLine, printTable } from "./agent-bench-util.ts";

/**
 * Event-stream flood: CLIENTS clients follow one job's event stream and never read, while the job
 * writes about 20 MB of log. Without a bound the coordinator would hold every client's unsent events
 * (CLIENTS × 20 MB); each stream is cut once 1 MiB waits for its client. Reports the farm process's
 * memory before and at the end, and how many streams were cut.
 *
 *   npm run build && node dist/bench/sse-flood.js [clients=500]
 */
const CLIENTS = Number(process.argv[2] ?? 500);
const MiB = 1024 * 1024;
const rss = () => process.memoryUsage().rss;

const testDir = mkdtempSync(join(tmpdir(), "memfarm-sse-flood-"));
writeFileSync(
  join(testDir, "test_flood.py"),
  [
    "import sys, time, unittest",
    "class Flood(unittest.TestCase):",
    "    def test_flood(self):",
    "        time.sleep(3)",
    "        for i in range(2500):",
    "            print(str(i) + ' ' + 'y' * 8000, flush=True)",
    "",
  ].join("\n"),
);
const farm = await startFarm({
  jobsDir: makeJobsDir({
    flood: {
      description: "a test with a lot of output",
      args: ["--testdir", testDir, "-v"],
      workers: 1,
      memlimit: "2G",
      reservation: { perWorker: "256M", overhead: "128M" },
      timeoutSeconds: 600,
    },
  }),
});
const sockets: Socket[] = [];
try {
  const job = await farm.submit({ suite: "flood", python: findTestPython(), tests: ["test_flood"] });
  global.gc?.();
  const before = rss();
  const port = new URL(farm.url).port;
  // What each client got, read only at the end: a stream cut for not reading lacks the final `end` event.
  const received: string[] = [];
  const closed: Promise<void>[] = [];
  for (let n = 0; n < CLIENTS; n += 1) {
    const socket = connect(Number(port), "127.0.0.1");
    socket.write(`GET /api/v1/jobs/${job.id}/events HTTP/1.1\r\nHost: x\r\n\r\n`);
    socket.pause();
    received.push("");
    socket.on("data", (chunk: Buffer) => {
      received[n] = (received[n] ?? "").slice(-200) + chunk.toString();
    });
    socket.on("error", () => undefined);
    closed.push(new Promise((resolve) => socket.once("close", () => resolve())));
    sockets.push(socket);
  }
  let most = rss();
  const done = farm.waitFor(job.id, finished, 600_000);
  const watch = setInterval(() => {
    most = Math.max(most, rss());
  }, 100);
  await done;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  clearInterval(watch);
  for (const socket of sockets) socket.resume();
  await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 20_000))]);
  const cut = received.filter((text) => !text.includes("event: end")).length;
  console.log(machineLine());
  console.log(`event-stream flood: ${CLIENTS} clients that never read one job's stream (about 20 MB of log)`);
  printTable(
    ["what", "number"],
    [
      ["farm process RSS before the clients", `${(before / MiB).toFixed(0)} MiB`],
      ["most RSS while the job streamed", `${(most / MiB).toFixed(0)} MiB`],
      ["growth per client", `${((most - before) / CLIENTS / 1024).toFixed(0)} KiB`],
      ["streams cut for not reading", `${cut} of ${CLIENTS}`],
      ["unbounded, it would hold", `${((CLIENTS * 20 * 1_000_000) / MiB).toFixed(0)} MiB`],
    ],
  );
} finally {
  for (const socket of sockets) socket.destroy();
  await farm.stop();
}
