/**
 * npm run platform:local — the whole chain on this machine (scripts/local/platform.ts): the
 * pipeline as separate processes, the stand-ins, Prometheus with the local-profile rules,
 * Alertmanager with the rendered routing pointed at the local receiver, the exporters and the
 * receiver. Prints where to look; Ctrl-C (or SIGTERM) stops every process it started.
 * Configs and logs: out/platform-local/ (PLATFORM_DIR). Ports: see DEFAULT_PORTS, PLATFORM_<NAME>_PORT.
 * Database: DATABASE_URL as it is, else PLATFORM_DB_NAME (default platform_local, recreated) on
 * the local Postgres, else the embedded PGlite.
 */
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { LOCAL_TOKENS, LocalPlatform } from "./local/platform.js";

async function main(): Promise<void> {
  const started = Date.now();
  const dir = resolve(process.env.PLATFORM_DIR ?? "out/platform-local");
  await rm(dir, { recursive: true, force: true });
  console.log("starting the local platform ...");
  let stopping: Promise<void> | undefined;
  const state: { platform?: LocalPlatform } = {};
  const stop = (signal: string) => {
    stopping ??= (async () => {
      console.log(`\n${signal}: stopping every process ...`);
      const result = await state.platform?.stop();
      if (result && result.leftovers.length > 0) {
        console.error(`still running: ${result.leftovers.map((p) => `${p.pid} ${p.cmd}`).join(", ")}`);
        process.exit(1);
      }
      console.log("stopped; nothing left running.");
      process.exit(0);
    })();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));

  const platform = await LocalPlatform.start({ dir, databaseName: process.env.PLATFORM_DB_NAME, trafficRate: Number(process.env.PLATFORM_TRAFFIC_RATE ?? 5), log: (l) => console.log(l) });
  state.platform = platform;
  if (stopping) return void (await platform.stop());
  const p = platform;
  const u = p.urls;
  const db = p.database.kind === "postgres" ? `Postgres, database ${p.database.name} (through a proxy on :${p.ports.databaseProxy})` : "embedded PGlite (in the api process)";
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`
The local platform is up (${seconds} s). Environment ${p.env}, profile ${p.profile.name} (every for:/window divided by ${p.profile.factor}).

  Receiver (pages, Slack, email)  ${u.receiver}/            JSON: ${u.receiver}/api/received
  Prometheus                      ${u.prometheus}/alerts
  Alertmanager                    ${u.alertmanager}/
  API                             ${u.api}/v1/products      (public edge, probed: ${u.edge}/healthz)
  Frontend (probed)               ${u.frontend}/
  Stand-ins                       source ${u.source}  LibreTranslate ${u.translate}  store ${u.store}
  Metrics                         ${Object.entries(u.metrics).map(([k, v]) => `${k} ${v}`).join("\n                                  ")}
                                  RabbitMQ ${u.rabbitmqMetrics}
  Database                        ${db}
  Broker                          RabbitMQ, queues prefixed ${p.queueNamespace} (shown to Prometheus without it)
  Processes                       ${[...p.processes.values()].map((x) => `${x.name} (pid ${x.pid})`).join(", ")}
  Configs and logs                ${p.dir}/  (logs/<process>.log)
${p.notes.map((n) => `  note: ${n}`).join("\n")}
Traffic: ${p.traffic.requestsPerSecond} GET /v1/products per second and a sample import every 5 s.

See a page arrive: stop the API, and within about 10 s the receiver lists an ApiUnavailable incident:
  kill ${p.processes.get("api")?.pid}        # or: curl -X PUT ${u.api}/v1/admin/fault-injection -H 'authorization: Bearer ${LOCAL_TOKENS.admin}' -H 'content-type: application/json' -d '{"http500Ratio": 0.2}'
(the platform does not restart it; Ctrl-C and start again.)

Ctrl-C stops everything.`);
}

main().catch((err: unknown) => {
  console.error(`platform:local failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
