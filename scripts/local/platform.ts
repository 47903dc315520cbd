/**
 * The whole chain on one machine, started once and used by `npm run platform:local`, the e2e
 * suite (tests/e2e-platform/) and anything built on top (a chaos run):
 *   - the pipeline as separate processes, as Kubernetes runs it: the API (ROLES=api), the workers
 *     (ROLES=workers, one process for JOB_TYPES=translation and one for the other types) and the
 *     scheduler (ROLES=scheduler); on the real Postgres through a TCP proxy this process owns (so
 *     a test can cut the database without touching the shared server), or, when no Postgres is
 *     reachable, one process with every role on the embedded PGlite (which lives in-process);
 *   - the stand-ins (supplier site, LibreTranslate, store), a static frontend page, and a public
 *     "edge" (a TCP proxy in front of the API) that the blackbox exporter probes;
 *   - Prometheus with the rules `synth --profile local` renders, Alertmanager with the rendered
 *     routing pointed at the local receiver, postgres_exporter, blackbox_exporter, node_exporter
 *     and RabbitMQ's own metrics endpoint (rabbitmq_prometheus, enabled if it is not);
 *   - the local receiver (PagerDuty, Slack, SMTP, heartbeat).
 * With `monitoring: false` (the chaos run) only the pipeline, the stand-ins and the proxies start;
 * with `brokerProxy: true` the pipeline reaches RabbitMQ through a TCP proxy this process owns
 * too (cutBroker/restoreBroker), so an outage never touches a broker that others share.
 * Every child is its own process group; stop() ends them all (and proves it from /proc).
 */
import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { Connection } from "rabbitmq-client";
import { stringify } from "yaml";
import { renderAlerting } from "../../alerts/artifacts.js";
import { ALERTMANAGER_SECRET_FILES, MAINTENANCE_WINDOW, type AlertmanagerConfig, type AlertmanagerSecretName } from "../../alerts/alertmanager.js";
import { LOCAL_PROFILE, type TimingProfile } from "../../alerts/profile.js";
import { PROMETHEUS_RULES_FILE } from "../../alerts/promtool-tests.js";
import { environment, type EnvironmentModel } from "../../model/environments.js";
import { BACKUP_DEADLINE_SECONDS, BACKUP_INTERVAL_MINUTES, METRICS_PORT, WORKLOADS, workerDeployment } from "../../model/workloads.js";
import { withDatabase } from "../../ops/backup/pg-tools.js";
import { OPS_COMMANDS } from "../../ops/commands.js";
import { WORKER_TYPES } from "../../model/stack-config.js";
import { ClusterStateExporter, type ClusterStateSource, type WorkloadReplicas } from "./cluster-state.js";
import { LocalCronJob } from "./local-cronjob.js";
import { loadConfig } from "../../services/config.js";
import { pgExecutor } from "../../services/db/executors.js";
import { applyMigrations } from "../../services/db/migrations.js";
import { withPgClient } from "../../services/db/pg-session.js";
import { jobEngineConfig } from "../../services/jobs/engine.js";
import { topology } from "../../services/jobs/topology.js";
import { JOB_TYPES, type JobType } from "../../services/jobs/types.js";
import { FAULT_INJECTION_PATH } from "../../services/api/fault-injection.js";
import { TcpProxy } from "../../tests/jobs/tcp-proxy.js";
import { LibreTranslateStandin, SourceSite, StoreStandin } from "../../tests/pipeline/standins/index.js";
import { freePort } from "../../tests/helpers/processes.js";
import { waitFor } from "../../tests/helpers/wait.js";
import { alertResendDelay, localAlertmanagerConfig, localBlackboxConfig, localPrometheusConfig, SCHEDULER_SCRAPE_JOB, withMaintenanceWindowCovering, withMaintenanceWindowElsewhere, type AppTarget } from "./monitoring-config.js";
import { processesInGroups, spawnGroup, type ManagedProcess } from "./process-group.js";
import { LocalReceiver } from "./receiver.js";
import { selfSignedCertificate } from "./tls.js";
import { TrafficGenerator } from "./traffic.js";

const execFileP = promisify(execFile);
const REPO = resolve(import.meta.dirname, "../..");

/** The environment whose rules, routing, URLs and labels the local platform runs. */
/**
 * The local chain's environment: dev's names, hosts and channels, routed as production routes,
 * critical alerts paging PagerDuty (then continuing to Slack). dev itself pages to Slack
 * (monitoring.pages), but the path this chain exists to prove is the one on-call is paged by.
 */
export const LOCAL_ENVIRONMENT: EnvironmentModel = (() => {
  const dev = environment("dev");
  return { ...dev, monitoring: { ...dev.monitoring, pages: "pagerduty" } };
})();
/** The local tokens (services/config.ts defaults); the traffic generator's token is this one. */
export const LOCAL_TOKENS = { api: "dev-token", admin: "dev-admin-token" } as const;
export const TRAFFIC_TOKEN = LOCAL_TOKENS.api;

/** Documented default ports; each can be overridden (PLATFORM_<NAME>_PORT), and a busy one is replaced by a free one. */
export const DEFAULT_PORTS = {
  api: 3000,
  workerTranslation: 3001,
  workerPipeline: 3002,
  scheduler: 3003,
  // Each pipeline process's metrics listener (METRICS_PORT), as production's pods serve it on
  // model/workloads.ts METRICS_PORT; on one machine every process needs a port of its own.
  apiMetrics: METRICS_PORT,
  workerTranslationMetrics: METRICS_PORT + 1,
  workerPipelineMetrics: METRICS_PORT + 2,
  schedulerMetrics: METRICS_PORT + 3,
  edge: 3080,
  frontend: 8080,
  source: 4100,
  translate: 5000,
  store: 4000,
  receiver: 9095,
  smtp: 2525,
  prometheus: 9090,
  alertmanager: 9093,
  blackboxExporter: 9115,
  postgresExporter: 9187,
  nodeExporter: 9100,
  databaseProxy: 6432,
  clusterState: 9480,
  brokerProxy: 5673,
} as const;
export type PortName = keyof typeof DEFAULT_PORTS;
export const PORT_ENV = (name: PortName) => `PLATFORM_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_PORT`;

/** RabbitMQ's own Prometheus endpoint (rabbitmq_prometheus plugin). */
export const RABBITMQ_PROMETHEUS_PORT = 15692;

export interface AppProcessSpec {
  readonly name: string;
  readonly port: PortName;
  /** Its metrics listener (METRICS_PORT): /metrics and the detailed /readyz. */
  readonly metricsPort: PortName;
  readonly roles: string;
  readonly jobTypes?: readonly JobType[];
  readonly scrapeJob: "api" | "worker" | "scheduler";
}

/** The pipeline processes on Postgres, as production runs them (one role or job group each). */
export const POSTGRES_PROCESSES: readonly AppProcessSpec[] = [
  { name: "api", port: "api", metricsPort: "apiMetrics", roles: "api", scrapeJob: "api" },
  { name: "worker-translation", port: "workerTranslation", metricsPort: "workerTranslationMetrics", roles: "workers", jobTypes: ["translation"], scrapeJob: "worker" },
  { name: "worker-pipeline", port: "workerPipeline", metricsPort: "workerPipelineMetrics", roles: "workers", jobTypes: JOB_TYPES.filter((t) => t !== "translation"), scrapeJob: "worker" },
  { name: "scheduler", port: "scheduler", metricsPort: "schedulerMetrics", roles: "scheduler", scrapeJob: "scheduler" },
];
/** PGlite lives inside one process: every role in the process that serves the API. */
export const PGLITE_PROCESSES: readonly AppProcessSpec[] = [{ name: "api", port: "api", metricsPort: "apiMetrics", roles: "api,workers,scheduler", scrapeJob: "api" }];

export interface LocalPlatformOptions {
  readonly env?: EnvironmentModel;
  readonly profile?: TimingProfile;
  /** "defaults" (documented ports, overridable) or "free" (every port free, for tests). */
  readonly ports?: "defaults" | "free";
  /** Use this database as it is (DATABASE_URL). Otherwise a database of its own on the local Postgres. */
  readonly databaseUrl?: string;
  /** Name of the database created on the local Postgres (dropped and recreated at start). */
  readonly databaseName?: string;
  /** Drop that database at stop (tests). */
  readonly dropDatabaseOnStop?: boolean;
  /** Admin URL of the local Postgres (default postgresql://postgres@127.0.0.1:5432/postgres). */
  readonly postgresAdminUrl?: string;
  /** Refuse the PGlite fallback (the e2e suite needs the database proxy). */
  readonly requirePostgres?: boolean;
  readonly amqpUrl?: string;
  /** Start Prometheus, Alertmanager, the exporters and the receiver (default true). */
  readonly monitoring?: boolean;
  /** The pipeline reaches RabbitMQ through a TCP proxy of this platform (cutBroker/restoreBroker). */
  readonly brokerProxy?: boolean;
  /** Working directory (configs, logs, images); a temp dir when absent. Removed at stop if it was a temp dir. */
  readonly dir?: string;
  /** Requests per second of steady API traffic (0: none). */
  readonly trafficRate?: number;
  /** An import of a sample product every this many ms, as normal traffic (0: none). */
  readonly importEveryMs?: number;
  readonly logLevel?: string;
  /** Extra environment for every pipeline process (e.g. JOB_RETRY_* for a test). */
  readonly serviceEnv?: Readonly<Record<string, string>>;
  /**
   * "rendered" (default): the maintenance window as production has it (Sunday 02:00-04:00 UTC:
   * warnings muted). "elsewhere": moved off the current time, for tests that expect warnings
   * whenever they run (withMaintenanceWindowElsewhere); maintenanceWindowNow(true) still covers now.
   */
  readonly maintenanceWindow?: "rendered" | "elsewhere";
  readonly log?: (line: string) => void;
}

export interface LocalPlatformUrls {
  readonly api: string;
  readonly edge: string;
  readonly frontend: string;
  readonly receiver: string;
  readonly prometheus: string;
  readonly alertmanager: string;
  readonly source: string;
  readonly translate: string;
  readonly store: string;
  readonly rabbitmqMetrics: string;
  /** The stand-in for kube-state-metrics, Argo Rollouts' metrics and the CloudWatch exporter (cluster-state.ts). */
  readonly clusterState: string;
  readonly metrics: Readonly<Record<string, string>>;
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
  activeAt: string;
}

async function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveP) => {
    const s = connect(port, host);
    const done = (ok: boolean) => {
      s.destroy();
      resolveP(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolveP) => {
    const s = createServer();
    s.once("error", () => resolveP(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolveP(true)));
  });
}

async function pgReachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** `url` with its host and port replaced by a local proxy's (the proxy forwards to the original). */
function throughLocalProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}

/** The sample products `npm run standins` also serves. */
function seedSite(site: SourceSite): string[] {
  return [
    site.setProduct("kettle", { title: "Electric kettle", description: "1.7 l, boils in three minutes.", price: "29.90", currency: "EUR", images: ["red.jpg", "blue.png"], format: "json" }),
    site.setProduct("lamp", { title: "Desk lamp", description: "Warm, dimmable light.", price: "45.00", currency: "EUR", images: ["green.jpg"], format: "json-ld" }),
    site.setProduct("mug", { title: "Coffee mug", description: "Holds 300 ml.", price: "9.50", currency: "EUR", images: ["blue.png"], format: "open-graph" }),
    site.setProduct("broken", { title: "Broken picture", description: "Its image is corrupt.", price: "1.00", currency: "EUR", images: ["corrupt.jpg"], format: "json" }),
  ];
}

export class LocalPlatform {
  readonly env: EnvironmentModel;
  readonly profile: TimingProfile;
  readonly ports = {} as Record<PortName, number>;
  readonly processes = new Map<string, ManagedProcess>();
  readonly specs: readonly AppProcessSpec[];
  receiver!: LocalReceiver;
  site!: SourceSite;
  translate!: LibreTranslateStandin;
  store!: StoreStandin;
  traffic!: TrafficGenerator;
  /** Every pipeline process reaches Postgres through this proxy (absent on PGlite). */
  databaseProxy: TcpProxy | undefined;
  /** With `brokerProxy`: every pipeline process reaches RabbitMQ through this proxy. */
  brokerProxy: TcpProxy | undefined;
  /** The public edge in front of the API: the blackbox exporter probes the API through it. */
  edgeProxy!: TcpProxy;
  database!: { kind: "postgres" | "pglite"; url?: string; name?: string; created: boolean };
  readonly queueNamespace = `local${randomBytes(3).toString("hex")}.`;
  dir = "";
  alertmanagerConfig!: AlertmanagerConfig;
  private prometheusConfig: Record<string, unknown> = {};
  readonly notes: string[] = [];
  /** Every process group ever started, for the final check. */
  private readonly groups = new Set<number>();
  private frontend: Server | undefined;
  private importTimer: NodeJS.Timeout | undefined;
  private importCount = 0;
  private tempDir = false;
  private secretFiles!: Record<AlertmanagerSecretName, string>;
  private stopped = false;
  private readonly startedAt = Date.now();
  /** Desired replicas per pipeline process (1 once started, 0 once stopped on purpose). */
  private readonly desiredReplicas = new Map<string, number>();
  private clusterState?: ClusterStateExporter;
  private backups?: LocalCronJob;

  private constructor(private readonly opts: LocalPlatformOptions) {
    this.env = opts.env ?? LOCAL_ENVIRONMENT;
    this.profile = opts.profile ?? LOCAL_PROFILE;
    this.specs = POSTGRES_PROCESSES;
  }

  /** Starts everything; on failure stops what was started and rethrows. */
  static async start(opts: LocalPlatformOptions = {}): Promise<LocalPlatform> {
    const p = new LocalPlatform(opts);
    try {
      await p.startAll();
      return p;
    } catch (err) {
      await p.stop().catch(() => undefined);
      throw err;
    }
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  get urls(): LocalPlatformUrls {
    const u = (name: PortName) => `http://127.0.0.1:${this.ports[name]}`;
    return {
      api: u("api"),
      edge: u("edge"),
      frontend: u("frontend"),
      receiver: this.receiver?.url ?? "",
      prometheus: u("prometheus"),
      alertmanager: u("alertmanager"),
      source: u("source"),
      translate: u("translate"),
      store: u("store"),
      rabbitmqMetrics: `http://127.0.0.1:${RABBITMQ_PROMETHEUS_PORT}/metrics`,
      clusterState: `${u("clusterState")}/metrics`,
      metrics: Object.fromEntries(this.activeSpecs().map((s) => [s.name, `http://${this.metricsAddress(s)}/metrics`])),
    };
  }

  activeSpecs(): readonly AppProcessSpec[] {
    return this.database?.kind === "pglite" ? PGLITE_PROCESSES : this.specs;
  }

  /** Where a pipeline process serves /metrics: its metrics listener (METRICS_PORT), not the application port. */
  metricsAddress(spec: AppProcessSpec): string {
    return `127.0.0.1:${this.ports[spec.metricsPort]}`;
  }

  private async pickPorts(): Promise<void> {
    for (const name of Object.keys(DEFAULT_PORTS) as PortName[]) {
      const override = process.env[PORT_ENV(name)];
      if (this.opts.ports === "free") this.ports[name] = await freePort();
      else if (override) this.ports[name] = Number(override);
      else if (await portFree(DEFAULT_PORTS[name])) this.ports[name] = DEFAULT_PORTS[name];
      else {
        this.ports[name] = await freePort();
        this.notes.push(`port ${DEFAULT_PORTS[name]} (${name}) is busy; using ${this.ports[name]}`);
      }
    }
  }

  private async startAll(): Promise<void> {
    const started = Date.now();
    this.tempDir = !this.opts.dir;
    this.dir = this.opts.dir ?? (await mkdtemp(join(tmpdir(), "platform-local-")));
    await mkdir(join(this.dir, "logs"), { recursive: true });
    await mkdir(join(this.dir, "secrets"), { recursive: true });
    await this.pickPorts();

    const amqp = new URL(this.amqpUrl);
    if (!(await reachable(amqp.hostname, Number(amqp.port || 5672)))) {
      throw new Error(`RabbitMQ is not reachable at ${amqp.host}: start it (for example \`rabbitmq-server -detached\`) or set AMQP_URL`);
    }
    if (this.opts.brokerProxy) {
      this.brokerProxy = new TcpProxy(amqp.hostname, Number(amqp.port || 5672));
      await this.brokerProxy.listen(this.ports.brokerProxy);
    }
    if (this.opts.monitoring === false) {
      await this.prepareDatabase();
      await this.startPipelineOnly();
      this.log(`platform up (no monitoring) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    const [cert] = await Promise.all([selfSignedCertificate(this.dir), this.ensureRabbitmqPrometheus(), this.prepareDatabase()]);

    const secrets = {
      pagerdutyRoutingKey: randomBytes(16).toString("hex"),
      smtpPassword: randomBytes(12).toString("hex"),
      heartbeatToken: randomBytes(12).toString("hex"),
    };
    const [receiver, site, translate, store] = await Promise.all([
      LocalReceiver.start({
        routingKey: secrets.pagerdutyRoutingKey,
        heartbeatToken: secrets.heartbeatToken,
        smtp: { username: "alertmanager", password: secrets.smtpPassword, key: cert.key, cert: cert.cert },
        port: this.ports.receiver,
        smtpPort: this.ports.smtp,
      }),
      SourceSite.start({ port: this.ports.source }),
      LibreTranslateStandin.start({ port: this.ports.translate }),
      StoreStandin.start({ port: this.ports.store }),
    ]);
    Object.assign(this, { receiver, site, translate, store });
    seedSite(site);
    await this.startFrontend();
    this.edgeProxy = new TcpProxy("127.0.0.1", this.ports.api);
    await this.edgeProxy.listen(this.ports.edge);

    // Secrets as files, as Alertmanager reads them in production (the Slack file holds the webhook URL).
    const file = (name: AlertmanagerSecretName) => join(this.dir, "secrets", ALERTMANAGER_SECRET_FILES[name].split("/").pop()!);
    this.secretFiles = { pagerdutyRoutingKey: file("pagerdutyRoutingKey"), slackWebhookUrl: file("slackWebhookUrl"), smtpPassword: file("smtpPassword"), heartbeatToken: file("heartbeatToken") };
    await Promise.all([
      writeFile(this.secretFiles.pagerdutyRoutingKey, secrets.pagerdutyRoutingKey),
      writeFile(this.secretFiles.slackWebhookUrl, receiver.slackWebhookUrl),
      writeFile(this.secretFiles.smtpPassword, secrets.smtpPassword),
      writeFile(this.secretFiles.heartbeatToken, secrets.heartbeatToken),
    ]);
    this.clusterState = await ClusterStateExporter.start(this.clusterStateSource(), this.ports.clusterState);
    await this.writeMonitoringConfigs();

    // Everything else starts in parallel; the pipeline processes take longest (TypeScript loading).
    // Prometheus starts last, once every target can answer: a target still starting would be a
    // real `up == 0` and page at once on this time scale.
    for (const spec of this.activeSpecs()) this.startService(spec.name);
    this.startMonitoringProcesses(cert.certFile);
    await Promise.all([...this.activeSpecs().map((s) => this.waitReady(s)), this.waitMonitoringReady(), this.startBackups()]);
    // One scrape of every endpoint first: the first /metrics of a process (collectors warming up)
    // can be slower than the 1 s scrape timeout, which on this time scale would page at start.
    await Promise.all([
      ...this.activeSpecs().map((sp) => fetch(`http://${this.metricsAddress(sp)}/metrics`).then((r) => r.arrayBuffer()).catch(() => undefined)),
      fetch(`${this.urls.edge}/healthz`).then((r) => r.arrayBuffer()).catch(() => undefined),
    ]);
    this.startPrometheus();
    await this.waitReadyUrl("prometheus", `${this.urls.prometheus}/-/ready`);
    await this.loadRulesOnceScraped();

    this.traffic = new TrafficGenerator({ baseUrl: this.urls.api, token: TRAFFIC_TOKEN, rate: this.opts.trafficRate ?? 5 });
    this.traffic.start();
    const every = this.opts.importEveryMs ?? 5000;
    if (every > 0) {
      this.importTimer = setInterval(() => void this.importSample().catch(() => undefined), every);
      this.importTimer.unref();
    }
    this.log(`platform up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  /** The stand-ins, the edge and the pipeline processes: everything but monitoring and the receiver. */
  private async startPipelineOnly(): Promise<void> {
    const [site, translate, store] = await Promise.all([
      SourceSite.start({ port: this.ports.source }),
      LibreTranslateStandin.start({ port: this.ports.translate }),
      StoreStandin.start({ port: this.ports.store }),
    ]);
    Object.assign(this, { site, translate, store });
    seedSite(site);
    this.edgeProxy = new TcpProxy("127.0.0.1", this.ports.api);
    await this.edgeProxy.listen(this.ports.edge);
    for (const spec of this.activeSpecs()) this.startService(spec.name);
    await Promise.all(this.activeSpecs().map((s) => this.waitReady(s)));
    this.traffic = new TrafficGenerator({ baseUrl: this.urls.api, token: TRAFFIC_TOKEN, rate: this.opts.trafficRate ?? 0 });
    if ((this.opts.trafficRate ?? 0) > 0) this.traffic.start();
    const every = this.opts.importEveryMs ?? 0;
    if (every > 0) this.setSampleImports(every);
  }

  // ------------------------------------------------------------------ database and broker

  /** The broker as the platform's own clients reach it (never through the proxy). */
  private get amqpUrl(): string {
    return this.opts.amqpUrl ?? process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
  }

  /** The broker URL the pipeline processes use: through the broker proxy when there is one. */
  get serviceAmqpUrl(): string {
    return this.brokerProxy ? throughLocalProxy(this.amqpUrl, this.ports.brokerProxy) : this.amqpUrl;
  }

  /** A broker outage for the pipeline alone: its AMQP connections are cut, new ones refused, until restoreBroker(). */
  async cutBroker(): Promise<void> {
    if (!this.brokerProxy) throw new Error("the platform was started without brokerProxy: nothing to cut");
    await this.brokerProxy.close();
  }
  async restoreBroker(): Promise<void> {
    await this.brokerProxy?.listen(this.ports.brokerProxy);
  }

  private async prepareDatabase(): Promise<void> {
    const explicit = this.opts.databaseUrl ?? process.env.DATABASE_URL;
    const admin = this.opts.postgresAdminUrl ?? process.env.PLATFORM_PG_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
    let url: string;
    if (explicit) {
      url = explicit;
      this.database = { kind: "postgres", url, name: new URL(url).pathname.slice(1), created: false };
    } else if (await pgReachable(admin)) {
      const name = this.opts.databaseName ?? "platform_local";
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name}: use lower-case letters, digits and _`);
      await withPgClient(admin, async (c) => {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await c.query(`CREATE DATABASE "${name}"`);
      });
      url = withDatabase(admin, name);
      this.database = { kind: "postgres", url, name, created: true };
    } else {
      if (this.opts.requirePostgres) throw new Error(`no Postgres reachable at ${new URL(admin).host} (and DATABASE_URL is not set)`);
      this.database = { kind: "pglite", created: false };
      this.notes.push(`no Postgres at ${new URL(admin).host}: the pipeline runs as one process with every role on the embedded PGlite database (set DATABASE_URL or start Postgres for separate processes)`);
      return;
    }
    await withPgClient(url, (c) => applyMigrations(pgExecutor(c)));
    const target = new URL(url);
    this.databaseProxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await this.databaseProxy.listen(this.ports.databaseProxy);
  }

  /** The database URL the processes use: through the proxy. */
  get serviceDatabaseUrl(): string | undefined {
    return this.database.url ? throughLocalProxy(this.database.url, this.ports.databaseProxy) : undefined;
  }

  /** Cuts the database off (every open connection dropped, new ones refused) until restoreDatabase(). */
  async cutDatabase(): Promise<void> {
    if (!this.databaseProxy) throw new Error("the database runs in-process (PGlite): nothing to cut");
    await this.databaseProxy.close();
  }
  async restoreDatabase(): Promise<void> {
    await this.databaseProxy?.listen(this.ports.databaseProxy);
  }

  /** A direct client (not through the proxy) for tests to read the database. */
  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    if (!this.database.url) throw new Error("the database runs in-process (PGlite)");
    return withPgClient(this.database.url, async (c) => (await c.query<R>(sql, params)).rows);
  }

  private async ensureRabbitmqPrometheus(): Promise<void> {
    if (await reachable("127.0.0.1", RABBITMQ_PROMETHEUS_PORT)) return;
    try {
      await execFileP("rabbitmq-plugins", ["enable", "rabbitmq_prometheus"], { timeout: 60_000 });
      await waitFor("RabbitMQ's metrics endpoint", () => reachable("127.0.0.1", RABBITMQ_PROMETHEUS_PORT), 30_000, 500);
      this.notes.push("enabled the rabbitmq_prometheus plugin (RabbitMQ's own metrics on :15692)");
    } catch (err) {
      this.notes.push(`RabbitMQ's metrics endpoint :${RABBITMQ_PROMETHEUS_PORT} is not available (${(err as Error).message.split("\n")[0]}); rabbitmq_* series will be missing`);
    }
  }

  // ------------------------------------------------------------------ pipeline processes

  private spec(name: string): AppProcessSpec {
    const s = this.activeSpecs().find((x) => x.name === name);
    if (!s) throw new Error(`no pipeline process named ${name}`);
    return s;
  }

  private serviceEnv(spec: AppProcessSpec): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ["DATABASE_URL", "PGLITE_DATA_DIR", "ROLES", "JOB_TYPES", "PORT", "METRICS_PORT", "NODE_ENV"]) delete env[k];
    return {
      ...env,
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: String(this.ports[spec.port]),
      METRICS_PORT: String(this.ports[spec.metricsPort]),
      ROLES: spec.roles,
      ...(spec.jobTypes ? { JOB_TYPES: spec.jobTypes.join(",") } : {}),
      ...(this.serviceDatabaseUrl ? { DATABASE_URL: this.serviceDatabaseUrl } : {}),
      AMQP_URL: this.serviceAmqpUrl,
      JOB_QUEUE_NAMESPACE: this.queueNamespace,
      API_TOKENS: LOCAL_TOKENS.api,
      ADMIN_TOKENS: LOCAL_TOKENS.admin,
      LOG_LEVEL: this.opts.logLevel ?? "info",
      TRANSLATION_URL: this.urls.translate,
      STORE_URL: this.urls.store,
      STORAGE_DIR: join(this.dir, "images"),
      // The local API takes the traffic generator and the tests from one client address.
      RATE_LIMIT_PER_MINUTE: "1000000",
      ...(spec.roles.includes("api") ? { FAULT_INJECTION: "true" } : {}),
      ...this.opts.serviceEnv,
    };
  }

  /** Starts (or restarts) one pipeline process on its port. */
  startService(name: string): ManagedProcess {
    const spec = this.spec(name);
    const existing = this.processes.get(name);
    if (existing?.running()) throw new Error(`${name} is already running`);
    this.desiredReplicas.set(name, 1);
    const proc = spawnGroup(name, process.execPath, ["--import", "tsx", "services/main.ts"], { cwd: REPO, env: this.serviceEnv(spec), logFile: join(this.dir, "logs", `${name}.log`) });
    this.groups.add(proc.pid);
    this.processes.set(name, proc);
    return proc;
  }

  async waitReady(specOrName: AppProcessSpec | string, timeoutMs = 60_000): Promise<void> {
    const spec = typeof specOrName === "string" ? this.spec(specOrName) : specOrName;
    const proc = this.processes.get(spec.name)!;
    await waitFor(
      `${spec.name} to be ready`,
      async () => {
        if (!proc.running()) throw new Error(`${spec.name} exited (${await proc.exited}):\n${proc.output().slice(-3000)}`);
        return (await fetch(`http://127.0.0.1:${this.ports[spec.port]}/readyz`).catch(() => undefined))?.ok;
      },
      timeoutMs,
      200,
    );
  }

  /**
   * Stops one pipeline process. SIGTERM: it drains, as when its workload is scaled to zero (the
   * cluster state then reports 0 desired replicas); SIGKILL: it dies mid-work and stays desired,
   * as a crashed pod does.
   */
  async stopService(name: string, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (signal === "SIGTERM") this.desiredReplicas.set(name, 0);
    await this.processes.get(name)?.stop({ signal, graceMs: 30_000 });
  }

  async restartService(name: string): Promise<void> {
    if (this.processes.get(name)?.running()) await this.stopService(name);
    this.startService(name);
    await this.waitReady(name);
  }

  // ------------------------------------------------------------------ cluster state

  /** A process's replicas as Kubernetes would count them: desired unless stopped on purpose, available while it runs and is ready. */
  private async replicasOf(spec: AppProcessSpec): Promise<WorkloadReplicas> {
    const desired = this.desiredReplicas.get(spec.name) ?? 0;
    const proc = this.processes.get(spec.name);
    if (!proc?.running()) return { desired, available: 0 };
    const ready = await fetch(`http://127.0.0.1:${this.ports[spec.port]}/readyz`, { signal: AbortSignal.timeout(500) })
      .then(async (r) => (await r.arrayBuffer(), r.ok))
      .catch(() => false);
    return { desired, available: ready ? 1 : 0 };
  }

  private clusterStateSource(): ClusterStateSource {
    return {
      namespace: this.env.namespace,
      workerDeployments: async () => {
        const entries = await Promise.all(
          WORKER_TYPES.map(async (type) => {
            const spec = this.activeSpecs().find((s) => s.roles.split(",").includes("workers") && (!s.jobTypes || s.jobTypes.includes(type)));
            return [workerDeployment(type), spec ? await this.replicasOf(spec) : { desired: 0, available: 0 }] as const;
          }),
        );
        return new Map(entries);
      },
      apiRollout: async () => ({ name: WORKLOADS.api, ...(await this.replicasOf(this.activeSpecs().find((s) => s.scrapeJob === "api")!)) }),
      cronJobs: () =>
        new Map([
          ...(this.backups ? [[WORKLOADS.backupCronJob, { createdAt: this.backups.createdAt, runs: this.backups.jobs }] as const] : []),
          [WORKLOADS.restoreDrillCronJob, { createdAt: this.startedAt, runs: [] }] as const,
        ]),
    };
  }

  /**
   * The db-backup CronJob: the committed command (OPS_COMMANDS.dbBackup) to a local directory, on
   * production's schedule divided by the profile's factor; the first run before Prometheus starts.
   * It connects to the database directly, not through the proxy that stands for the pipeline
   * pods' network path (the e2e suite cuts that path). PGlite has no pg_dump: no backups, and
   * BackupTooOld says so.
   */
  private async startBackups(): Promise<void> {
    if (this.database.kind !== "postgres") {
      this.notes.push("the embedded PGlite has no pg_dump: no backups run, and BackupTooOld fires");
      return;
    }
    this.backups = new LocalCronJob({
      name: WORKLOADS.backupCronJob,
      command: [...OPS_COMMANDS.dbBackup, "--out", join(this.dir, "backups")],
      cwd: REPO,
      env: { ...process.env, DATABASE_URL: this.database.url, LOG_LEVEL: "warn" },
      intervalMs: (BACKUP_INTERVAL_MINUTES * 60_000) / this.profile.factor,
      // Production's deadline on the profile's scale, but at least a minute: a node start alone takes seconds here.
      deadlineMs: Math.max((BACKUP_DEADLINE_SECONDS * 1000) / this.profile.factor, 60_000),
      logDir: join(this.dir, "logs"),
      onSpawn: (pid) => this.groups.add(pid),
    });
    const first = await this.backups.start();
    if (!first.succeeded) this.notes.push(`the first backup (${first.jobName}) failed: see logs/${WORKLOADS.backupCronJob}.log; BackupFailed will fire`);
  }

  // ------------------------------------------------------------------ monitoring

  private async writeMonitoringConfigs(): Promise<void> {
    // The rules exactly as `npm run synth -- --env <env> --profile local` writes them.
    const rules = renderAlerting(this.env, this.profile).find((a) => a.path === PROMETHEUS_RULES_FILE);
    if (!rules) throw new Error("synth rendered no rules");
    await writeFile(join(this.dir, PROMETHEUS_RULES_FILE), rules.content);
    const targetOf = (s: AppProcessSpec): AppTarget => ({ address: this.metricsAddress(s), pod: `${s.name}-local` });
    const specs = this.activeSpecs();
    const prometheus = localPrometheusConfig(
      this.env,
      this.profile,
      {
        api: targetOf(specs.find((s) => s.scrapeJob === "api")!),
        workers: specs.filter((s) => s.scrapeJob === "worker").map(targetOf),
        scheduler: specs.filter((s) => s.scrapeJob === SCHEDULER_SCRAPE_JOB).map(targetOf)[0],
        probes: { api: `${this.urls.edge}/healthz`, frontend: `${this.urls.frontend}/` },
        blackboxExporter: `127.0.0.1:${this.ports.blackboxExporter}`,
        postgresExporter: this.database.kind === "postgres" ? `127.0.0.1:${this.ports.postgresExporter}` : undefined,
        nodeExporter: `127.0.0.1:${this.ports.nodeExporter}`,
        rabbitmq: `127.0.0.1:${RABBITMQ_PROMETHEUS_PORT}`,
        alertmanager: `127.0.0.1:${this.ports.alertmanager}`,
        clusterState: this.clusterState!.address,
        queueNamespace: this.queueNamespace,
      },
      join(this.dir, PROMETHEUS_RULES_FILE),
    );
    // Prometheus starts without rules and loads them once every target has been scraped (see
    // loadRulesOnceScraped): before its first scrape `up` is absent, which the production rule
    // rightly reads as "no API", and on this time scale that would page at every start.
    this.prometheusConfig = prometheus;
    await writeFile(join(this.dir, "prometheus.yml"), stringify({ ...prometheus, rule_files: [] }));
    await writeFile(join(this.dir, "blackbox.yml"), stringify(localBlackboxConfig()));
    this.alertmanagerConfig = this.initialAlertmanagerConfig();
    await writeFile(join(this.dir, "alertmanager.yaml"), stringify(this.alertmanagerConfig, { lineWidth: 0 }));
  }

  private spawnTool(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
    const proc = spawnGroup(name, cmd, args, { env, logFile: join(this.dir, "logs", `${name}.log`) });
    this.groups.add(proc.pid);
    this.processes.set(name, proc);
  }

  private startMonitoringProcesses(caFile: string): void {
    const d = this.dir;
    const listen = (name: PortName) => `--web.listen-address=127.0.0.1:${this.ports[name]}`;
    // SSL_CERT_FILE: Alertmanager trusts the receiver's self-signed SMTP certificate, config unchanged.
    this.spawnTool("alertmanager", "prometheus-alertmanager", [`--config.file=${join(d, "alertmanager.yaml")}`, `--storage.path=${join(d, "alertmanager-data")}`, listen("alertmanager"), "--cluster.listen-address=", "--log.level=warn"], { ...process.env, SSL_CERT_FILE: caFile });
    this.spawnTool("blackbox-exporter", "prometheus-blackbox-exporter", [`--config.file=${join(d, "blackbox.yml")}`, listen("blackboxExporter"), "--log.level=warn"]);
    this.spawnTool("node-exporter", "prometheus-node-exporter", [listen("nodeExporter"), "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo", "--collector.filesystem", "--collector.loadavg", "--log.level=warn"]);
    if (this.database.kind === "postgres") {
      const dsn = new URL(this.serviceDatabaseUrl!);
      dsn.searchParams.set("sslmode", "disable");
      this.spawnTool("postgres-exporter", "prometheus-postgres-exporter", [listen("postgresExporter"), "--log.level=warn"], { ...process.env, DATA_SOURCE_NAME: dsn.toString() });
    }
  }

  private startPrometheus(): void {
    const d = this.dir;
    this.spawnTool("prometheus", "prometheus", [
      `--config.file=${join(d, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(d, "prometheus-data")}`,
      `--web.listen-address=127.0.0.1:${this.ports.prometheus}`,
      "--web.enable-lifecycle",
      `--rules.alert.resend-delay=${alertResendDelay(this.profile)}`,
      "--log.level=warn",
    ]);
  }

  private async waitReadyUrl(name: string, url: string): Promise<void> {
    const proc = this.processes.get(name);
    if (!proc) return;
    await waitFor(
      `${name} to be ready`,
      async () => {
        if (!proc.running()) throw new Error(`${name} exited (${await proc.exited}):\n${proc.output().slice(-3000)}`);
        return (await fetch(url).catch(() => undefined))?.ok;
      },
      60_000,
      200,
    );
  }

  private async waitMonitoringReady(): Promise<void> {
    const ready = (name: string, url: string) => this.waitReadyUrl(name, url);
    const u = (n: PortName, path: string) => `http://127.0.0.1:${this.ports[n]}${path}`;
    await Promise.all([
      ready("alertmanager", u("alertmanager", "/-/ready")),
      ready("blackbox-exporter", u("blackboxExporter", "/metrics")),
      ready("node-exporter", u("nodeExporter", "/metrics")),
      ready("postgres-exporter", u("postgresExporter", "/metrics")),
    ]);
  }

  private async loadRulesOnceScraped(): Promise<void> {
    await waitFor(
      "every target's first scrape",
      async () => {
        const body = (await (await fetch(`${this.urls.prometheus}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: { lastScrape: string }[] } };
        const t = body.data.activeTargets;
        return t.length > 0 && t.every((x) => !x.lastScrape.startsWith("0001-"));
      },
      30_000,
      200,
      true,
    );
    await writeFile(join(this.dir, "prometheus.yml"), stringify(this.prometheusConfig));
    const res = await fetch(`${this.urls.prometheus}/-/reload`, { method: "POST" });
    if (!res.ok) throw new Error(`prometheus reload: ${res.status} ${await res.text()}`);
    await waitFor(
      "Prometheus to load the rules",
      async () => ((await (await fetch(`${this.urls.prometheus}/api/v1/rules`)).json()) as { data: { groups: unknown[] } }).data.groups.length > 0,
      30_000,
      200,
      true,
    );
  }

  /** Resolves once every scrape target reports up == 1 (the chain is fully wired). */
  async waitForTargetsUp(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      "every Prometheus target to be up",
      async () => {
        const body = (await (await fetch(`${this.urls.prometheus}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: { health: string }[] } };
        const t = body.data.activeTargets;
        return t.length > 0 && t.every((x) => x.health === "up");
      },
      timeoutMs,
      500,
      true,
    );
  }

  async promQuery(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${this.urls.prometheus}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== "success") throw new Error(`query ${expr}: ${body.error}`);
    return body.data.result;
  }

  async promAlerts(): Promise<PromAlert[]> {
    const body = (await (await fetch(`${this.urls.prometheus}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } };
    return body.data.alerts;
  }

  /** Writes a new Alertmanager config and reloads it (POST /-/reload). */
  async reloadAlertmanager(config: AlertmanagerConfig): Promise<void> {
    await writeFile(join(this.dir, "alertmanager.yaml"), stringify(config, { lineWidth: 0 }));
    const res = await fetch(`${this.urls.alertmanager}/-/reload`, { method: "POST" });
    if (!res.ok) throw new Error(`alertmanager reload: ${res.status} ${await res.text()}`);
    this.alertmanagerConfig = config;
  }

  /** The maintenance window override: the window covers today (true) or is as at start (false: the maintenanceWindow option). */
  async maintenanceWindowNow(on: boolean): Promise<void> {
    const base = this.initialAlertmanagerConfig();
    await this.reloadAlertmanager(on ? withMaintenanceWindowCovering(base, new Date(), MAINTENANCE_WINDOW.name) : base);
  }

  /** The local Alertmanager config the platform starts with: the maintenance window as the maintenanceWindow option says. */
  private initialAlertmanagerConfig(): AlertmanagerConfig {
    const rendered = localAlertmanagerConfig(this.env, this.profile, { pagerdutyUrl: this.receiver.pagerdutyUrl, heartbeatUrl: this.receiver.heartbeatUrl, smarthost: this.receiver.smarthost, secretFiles: this.secretFiles });
    return this.opts.maintenanceWindow === "elsewhere" ? withMaintenanceWindowElsewhere(rendered, new Date(), MAINTENANCE_WINDOW.name) : rendered;
  }

  // ------------------------------------------------------------------ API helpers

  async api(method: string, path: string, body?: unknown, token: string = LOCAL_TOKENS.api): Promise<{ status: number; body: unknown }> {
    const res = await fetch(this.urls.api + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  }

  /** Sets the share of /v1 requests the API fails with 500 (FAULT_INJECTION is on locally). */
  async setHttp500Ratio(ratio: number): Promise<void> {
    const r = await this.api("PUT", FAULT_INJECTION_PATH, { http500Ratio: ratio }, LOCAL_TOKENS.admin);
    if (r.status !== 200) throw new Error(`fault injection: ${r.status} ${JSON.stringify(r.body)}`);
  }

  /** Adds `n` products to the supplier site and imports them (in requests of at most 100 URLs). */
  async importProducts(n: number, prefix: string, doc: { images?: string[] } = {}): Promise<string[]> {
    const ids: string[] = [];
    const urls = Array.from({ length: n }, (_, i) =>
      this.site.setProduct(`${prefix}-${i}`, { title: `${prefix} ${i}`, description: "A product.", price: "10.00", currency: "EUR", images: doc.images ?? ["green.jpg"], format: "json" }),
    );
    for (let i = 0; i < urls.length; i += 100) {
      const r = await this.api("POST", "/v1/imports", { sourceUrls: urls.slice(i, i + 100) });
      if (r.status !== 202) throw new Error(`import: ${r.status} ${JSON.stringify(r.body)}`);
      ids.push((r.body as { importId: string }).importId);
    }
    return ids;
  }

  private async importSample(): Promise<void> {
    this.importCount++;
    await this.importProducts(1, `steady-${this.importCount}`);
  }

  /** Stops the periodic sample imports (normal traffic) or starts them again. */
  setSampleImports(everyMs: number): void {
    clearInterval(this.importTimer);
    this.importTimer = undefined;
    if (everyMs > 0) {
      this.importTimer = setInterval(() => void this.importSample().catch(() => undefined), everyMs);
      this.importTimer.unref();
    }
  }

  // ------------------------------------------------------------------ shutdown

  /** Process group ids of everything this platform started. */
  get processGroups(): number[] {
    return [...this.groups];
  }

  /** Stops everything; returns the processes still alive afterwards (none, or it is a bug). */
  async stop(): Promise<{ leftovers: { pid: number; cmd: string }[] }> {
    if (this.stopped) return { leftovers: await processesInGroups(this.processGroups) };
    this.stopped = true;
    this.traffic?.stop();
    clearInterval(this.importTimer);
    await this.backups?.stop().catch(() => undefined);
    const app = [...this.processes.values()].filter((p) => this.activeSpecs().some((s) => s.name === p.name));
    const tools = [...this.processes.values()].filter((p) => !app.includes(p));
    // The pipeline drains first (it may still need the database and the broker), then the rest.
    await Promise.all(app.map((p) => p.stop({ graceMs: 15_000 })));
    await Promise.all(tools.map((p) => p.stop({ graceMs: 5_000 })));
    await Promise.all([
      this.receiver?.close(),
      this.site?.close(),
      this.translate?.close(),
      this.store?.close(),
      this.edgeProxy?.close(),
      this.databaseProxy?.close(),
      this.clusterState?.close(),
      this.brokerProxy?.close(),
      this.frontend ? new Promise<void>((r) => this.frontend!.close(() => r())) : undefined,
    ]).catch(() => undefined);
    await this.deleteQueues().catch(() => undefined);
    if (this.database?.created && this.opts.dropDatabaseOnStop) {
      const admin = this.opts.postgresAdminUrl ?? process.env.PLATFORM_PG_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
      await withPgClient(admin, (c) => c.query(`DROP DATABASE IF EXISTS "${this.database.name}" WITH (FORCE)`)).catch(() => undefined);
    }
    if (this.tempDir && this.dir) await rm(this.dir, { recursive: true, force: true });
    return { leftovers: await processesInGroups(this.processGroups) };
  }

  /** The queues of this platform's namespace on the shared broker. */
  private async deleteQueues(): Promise<void> {
    const broker = new Connection({ url: this.amqpUrl, retryLow: 100, retryHigh: 500 });
    broker.on("error", () => undefined);
    try {
      await broker.onConnect(3000);
      const retry = jobEngineConfig(loadConfig({ ...this.opts.serviceEnv })).retry;
      for (const spec of topology(retry, this.queueNamespace)) await broker.queueDelete({ queue: spec.queue }).catch(() => undefined);
    } finally {
      await broker.close();
    }
  }

  private async startFrontend(): Promise<void> {
    const page = `<!doctype html><html><head><meta charset="utf-8"><title>Product platform</title></head><body><h1>Product platform</h1><p>The static frontend, as CloudFront serves it.</p></body></html>`;
    this.frontend = createServer((req, res) => {
      if (req.url === "/" || req.url === "/index.html") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        return void res.end(page);
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r, j) => {
      this.frontend!.once("error", j);
      this.frontend!.listen(this.ports.frontend, "127.0.0.1", () => r());
    });
  }
}
