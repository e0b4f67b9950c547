// Audit `pinzhi serve` against the GraphQL-over-HTTP specification with graphql-http's
// server audits, on a throwaway SQLite database. Exits non-zero unless every audit is ok.
//
//   node audit.mjs                      # starts its own server (needs `pinzhi` on PATH)
//   node audit.mjs --url http://127.0.0.1:8000/graphql   # audits a server already running
//
// PINZHI_BIN names the `pinzhi` executable (default: `pinzhi`).

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditServer } from "graphql-http";

const PINZHI = process.env.PINZHI_BIN || "pinzhi";
const START_TIMEOUT_MS = 30_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHealth(base, server) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`pinzhi serve exited with code ${server.exitCode}`);
    }
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`pinzhi serve did not become healthy within ${START_TIMEOUT_MS} ms`);
}

async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "pinzhi-audit-"));
  const databaseUrl = `sqlite://${join(dir, "audit.sqlite3")}`;
  const env = { ...process.env, PINZHI_ENV: "development", DATABASE_URL: databaseUrl };
  delete env.CACHE_URL;
  const migrated = spawnSync(PINZHI, ["migrate", "--database-url", databaseUrl], {
    env,
    stdio: "inherit",
  });
  if (migrated.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pinzhi migrate failed (${migrated.error ?? `exit ${migrated.status}`})`);
  }
  const port = await freePort();
  const server = spawn(
    PINZHI,
    ["serve", "--host", "127.0.0.1", "--port", String(port), "--database-url", databaseUrl],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  // The server's log (one line per request) is shown only if something goes wrong.
  const log = [];
  server.stdout.on("data", (chunk) => log.push(chunk));
  server.stderr.on("data", (chunk) => log.push(chunk));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (server.exitCode === null) {
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const showLog = () => process.stderr.write(Buffer.concat(log));
  try {
    await waitForHealth(base, server);
  } catch (error) {
    await stop();
    showLog();
    throw error;
  }
  return { url: `${base}/graphql`, stop, showLog };
}

function summarise(results) {
  const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
  for (const result of results) counts[result.status] += 1;
  for (const result of results) {
    if (result.status !== "ok") {
      console.log(`  ${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`);
    }
  }
  console.log(
    `graphql-http audit: ${counts.ok} ok, ${counts.notice} notice, ${counts.warn} warn, ` +
      `${counts.error} error (of ${results.length})`,
  );
  return counts;
}

async function main() {
  const urlIndex = process.argv.indexOf("--url");
  const given = urlIndex > 0 ? process.argv[urlIndex + 1] : undefined;
  const server = given ? { url: given, stop: async () => {} } : await startServer();
  console.log(`Auditing ${server.url}`);
  let results;
  try {
    results = await auditServer({ url: server.url });
  } finally {
    await server.stop();
  }
  const counts = summarise(results);
  if (counts.ok === results.length) return 0;
  server.showLog?.();
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`graphql-http audit failed: ${error.message}`);
    process.exit(2);
  },
);
