/**
 * The pipeline's use cases as the API calls them. Routes parse and map; everything that
 * touches the database, the state machine, metrics or the job queue happens here.
 */
import type { Logger } from "../logger.js";
import type { Database } from "../db/client.js";
import type { Prisma } from "../db/client.js";
import { productReviewDuration, productsByStatus, reviewActionsTotal } from "../metrics.js";
import type { MetricsRegistry } from "../metrics-registry.js";
import { DomainError, productNotFound } from "./errors.js";
import { assertPublicHost, checkUrl, FetchError } from "./http.js";
import { nameUuid, uuidv7 } from "./ids.js";
import { prismaExecutor } from "../db/executors.js";
import type { TransactionalJobQueue } from "./jobs.js";
import { applyTransition, productView } from "./products.js";
import { PRODUCT_STATUSES, REVIEWABLE, assertTransition, type ProductStatus } from "./status.js";

export interface PipelineServiceDeps {
  readonly db: Database;
  readonly jobs: TransactionalJobQueue;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  readonly autoPushOnApprove: boolean;
  /** Refuse source URLs on private/loopback addresses (BLOCK_PRIVATE_SOURCES). */
  readonly blockPrivateSources: boolean;
}

export interface ListProductsQuery {
  readonly status?: readonly ProductStatus[];
  /** A host (shop.example.com[:port]) or a URL prefix (https://shop.example.com/catalog/). */
  readonly source?: string;
  /** The id of the last product of the previous page. */
  readonly after?: string;
  readonly limit: number;
}

export interface ReviewInput {
  readonly decision: "approve" | "reject";
  readonly reviewer: string;
  readonly notes?: string;
  readonly version?: number;
}

export class PipelineService {
  constructor(private readonly deps: PipelineServiceDeps) {
    // One GROUP BY per scrape; statuses with no products read 0 rather than disappearing.
    // With the database unreachable there is no sample (like the engine's gauges): a throwing
    // collector would fail the whole scrape, and dependency_up{dependency="postgres"} = 0, the
    // very signal of the outage, would never reach Prometheus.
    deps.metrics.gauge(productsByStatus, async (g) => {
      const rows = await deps.db.sql.query<{ status: ProductStatus; n: string }>(`SELECT status::text AS status, count(*)::text AS n FROM products GROUP BY status`).catch(() => undefined);
      if (!rows) return;
      const counts = new Map(rows.rows.map((r) => [r.status, Number(r.n)]));
      for (const s of PRODUCT_STATUSES) g.set({ status: s }, counts.get(s) ?? 0);
    });
  }

  private get prisma() {
    return this.deps.db.prisma;
  }

  // ------------------------------------------------------------------ imports
  async createImport(sourceUrls: readonly string[], requestId?: string): Promise<{ importId: string; items: { sourceUrl: string; jobId: string }[] }> {
    const urls = [...new Set(sourceUrls)];
    await Promise.all(urls.map((url) => this.checkSourceUrl(url)));
    const importId = uuidv7();
    const items = urls.map((sourceUrl) => ({ sourceUrl, jobId: nameUuid(`import:${importId}:${sourceUrl}`) }));
    // The import, its items and its jobs commit together (the jobs through the engine's outbox):
    // no import without the jobs that carry it out. Published after the commit; if this process
    // dies in between, the outbox relay publishes them.
    const { publish } = await this.prisma.$transaction(async (tx) => {
      await tx.import.create({
        data: { id: importId, requestId: requestId ?? null, sourceUrls: urls, items: { create: items.map((i) => ({ sourceUrl: i.sourceUrl, jobId: i.jobId })) } },
      });
      return this.deps.jobs.enqueueInTransaction(
        prismaExecutor(tx),
        items.map((item) => ({ type: "import" as const, payload: { importId, sourceUrl: item.sourceUrl }, requestId, jobId: item.jobId })),
      );
    });
    await publish();
    return { importId, items };
  }

  private async checkSourceUrl(url: string): Promise<void> {
    try {
      const u = checkUrl(url);
      if (this.deps.blockPrivateSources) await assertPublicHost(u);
    } catch (err) {
      if (err instanceof FetchError) throw new DomainError("invalid_request", `sourceUrl ${url.slice(0, 200)}: ${err.message}`, { sourceUrl: url.slice(0, 2048) });
      throw err;
    }
  }

  async getImport(id: string) {
    const imp = await this.prisma.import.findUnique({
      where: { id },
      include: { items: { include: { product: { select: { id: true, status: true, title: true, failureReason: true } } }, orderBy: { sourceUrl: "asc" } } },
    });
    if (!imp) throw new DomainError("not_found", `import ${id} does not exist`, { importId: id });
    const jobIds = imp.items.map((i) => i.jobId).filter((x): x is string => !!x);
    const jobs = new Map(
      (await this.prisma.job.findMany({ where: { id: { in: jobIds } }, select: { id: true, status: true, attempts: true, lastError: true } })).map((j) => [j.id, j]),
    );
    const items = imp.items.map((i) => {
      const job = i.jobId ? jobs.get(i.jobId) : undefined;
      return {
        sourceUrl: i.sourceUrl,
        productId: i.productId,
        productStatus: i.product?.status ?? null,
        title: i.product?.title ?? null,
        importJob: job ? { id: job.id, status: job.status, attempts: job.attempts } : null,
        error: i.error ?? i.product?.failureReason ?? (job?.status === "dead" || job?.status === "failed" ? job.lastError : null),
      };
    });
    const byStatus: Record<string, number> = {};
    for (const i of items) {
      const key = i.productStatus ?? (i.importJob?.status === "dead" ? "import_failed" : "pending");
      byStatus[key] = (byStatus[key] ?? 0) + 1;
    }
    const settled = (s: string) => ["in_review", "approved", "rejected", "pushed", "failed", "source_gone", "import_failed"].includes(s);
    return {
      id: imp.id,
      createdAt: imp.createdAt,
      requestId: imp.requestId,
      total: items.length,
      byStatus,
      done: Object.entries(byStatus).every(([s]) => settled(s)),
      items,
    };
  }

  // ------------------------------------------------------------------ products
  async listProducts(q: ListProductsQuery) {
    const where: Prisma.ProductWhereInput = {};
    if (q.status?.length) where.status = { in: [...q.status] };
    if (q.source) {
      where.OR = q.source.includes("://")
        ? [{ sourceUrl: { startsWith: q.source } }]
        : [{ sourceUrl: { startsWith: `https://${q.source}/` } }, { sourceUrl: { startsWith: `http://${q.source}/` } }];
    }
    if (q.after) where.id = { gt: q.after };
    const rows = await this.prisma.product.findMany({ where, orderBy: { id: "asc" }, take: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    return { items: page.map(productView), nextAfter: rows.length > q.limit ? page[page.length - 1]!.id : null };
  }

  async getProduct(id: string) {
    const p = await this.prisma.product.findUnique({
      where: { id },
      include: {
        translations: { orderBy: { language: "asc" } },
        images: { orderBy: { position: "asc" } },
        events: { orderBy: { id: "asc" } },
        sourceChecks: { orderBy: { id: "desc" }, take: 20 },
      },
    });
    if (!p) throw productNotFound(id);
    return {
      ...productView(p),
      translations: p.translations.map((t) => ({ language: t.language, title: t.title, description: t.description, provider: t.provider, updatedAt: t.createdAt })),
      images: p.images.map((i) => ({
        position: i.position,
        sourceUrl: i.sourceUrl,
        width: i.width,
        height: i.height,
        format: i.format,
        bytes: i.bytes,
        checksum: i.checksum,
        variants: i.variants,
      })),
      history: p.events.map((e) => ({ from: e.fromStatus, to: e.toStatus, actor: e.actor, details: e.details, at: e.at })),
      sourceChecks: p.sourceChecks.map((c) => ({
        outcome: c.outcome,
        httpStatus: c.httpStatus,
        latencyMs: c.latencyMs,
        oldPrice: c.oldPrice?.toFixed(2) ?? null,
        newPrice: c.newPrice?.toFixed(2) ?? null,
        error: c.error,
        checkedAt: c.checkedAt,
      })),
    };
  }

  // ------------------------------------------------------------------ review
  async review(id: string, input: ReviewInput, requestId?: string) {
    const to: ProductStatus = input.decision === "approve" ? "approved" : "rejected";
    const now = new Date();
    const autoPush = to === "approved" && this.deps.autoPushOnApprove;
    // The approval and its push job commit together (the job through the engine's outbox): a
    // connection lost between two separate writes would leave an approved product no job pushes.
    const { product, startedAt, pushJobId, publish } = await this.prisma.$transaction(async (tx) => {
      const current = await tx.product.findUnique({ where: { id } });
      if (!current) throw productNotFound(id);
      if (current.status !== REVIEWABLE) {
        throw new DomainError("illegal_transition", `only a product in ${REVIEWABLE} can be reviewed; this one is ${current.status}`, { from: current.status, to, allowed: [] });
      }
      const product = await applyTransition(tx, current, to, {
        actor: `reviewer:${input.reviewer}`,
        expectedVersion: input.version,
        details: { reviewer: input.reviewer, notes: input.notes ?? null, requestId: requestId ?? null },
        data: { reviewer: input.reviewer, reviewNotes: input.notes ?? null, reviewedAt: now },
      });
      const pushJobId = autoPush ? nameUuid(`push:${id}:v${product.version}`) : null;
      const { publish } = pushJobId
        ? await this.deps.jobs.enqueueInTransaction(prismaExecutor(tx), [{ type: "push", payload: { productId: id }, requestId, jobId: pushJobId }])
        : { publish: async () => undefined };
      return { product, startedAt: current.reviewStartedAt ?? current.statusChangedAt, pushJobId, publish };
    });
    await publish();
    const seconds = Math.max(0, (now.getTime() - startedAt.getTime()) / 1000);
    this.deps.metrics.histogram(productReviewDuration).observe({ decision: input.decision }, seconds);
    this.deps.metrics.counter(reviewActionsTotal).inc({ reviewer: input.reviewer, decision: input.decision });
    return { product: productView(product), reviewSeconds: seconds, pushJobId };
  }

  // ------------------------------------------------------------------ push
  /**
   * Queues a push. An approved product is pushed; a pushed one is re-sent with the same
   * idempotency key, which the store answers with the existing product (no second one).
   */
  async requestPush(id: string, requestId?: string) {
    const p = await this.prisma.product.findUnique({ where: { id }, select: { status: true, version: true } });
    if (!p) throw productNotFound(id);
    if (p.status !== "pushed") assertTransition(p.status, "pushed");
    const jobId = uuidv7();
    await this.deps.jobs.enqueue("push", { productId: id }, { requestId, jobId });
    return { productId: id, status: p.status, jobId };
  }

  // ------------------------------------------------------------------ source checks
  /** Queues a source check for the given products, or for every product whose source still exists. */
  async requestSourceChecks(target: { all: true } | { productIds: readonly string[] }, requestId?: string) {
    const batchId = uuidv7();
    let ids: string[];
    if ("all" in target) {
      ids = (await this.prisma.product.findMany({ where: { status: { not: "source_gone" } }, select: { id: true }, orderBy: { id: "asc" } })).map((p) => p.id);
    } else {
      const wanted = [...new Set(target.productIds)];
      const found = new Set((await this.prisma.product.findMany({ where: { id: { in: wanted } }, select: { id: true } })).map((p) => p.id));
      const missing = wanted.filter((x) => !found.has(x));
      if (missing.length) throw new DomainError("not_found", `unknown product ids: ${missing.slice(0, 10).join(", ")}`, { missing });
      ids = wanted;
    }
    for (let i = 0; i < ids.length; i += 500) {
      await Promise.all(
        ids.slice(i, i + 500).map((productId) => this.deps.jobs.enqueue("source_check", { productId }, { requestId, jobId: nameUuid(`source_check:${batchId}:${productId}`) })),
      );
    }
    return { batchId, enqueued: ids.length };
  }

  /**
   * One scheduler tick: queue checks for products not checked within `intervalMs`. Job ids
   * derive from the product and the time slot, so two schedulers (or two ticks) in the same
   * slot queue each check once.
   */
  async scheduleDueSourceChecks(intervalMs: number, limit = 500, now = Date.now()): Promise<number> {
    const cutoff = new Date(now - intervalMs);
    const due = await this.prisma.product.findMany({
      where: {
        status: { not: "source_gone" },
        OR: [{ lastCheckedAt: { lt: cutoff } }, { lastCheckedAt: null, createdAt: { lt: cutoff } }],
      },
      select: { id: true },
      orderBy: { lastCheckedAt: { sort: "asc", nulls: "first" } },
      take: limit,
    });
    const slot = Math.floor(now / Math.max(intervalMs, 1));
    await Promise.all(due.map((p) => this.deps.jobs.enqueue("source_check", { productId: p.id }, { jobId: nameUuid(`source_check:slot:${slot}:${p.id}`) })));
    if (due.length) this.deps.logger.info({ count: due.length }, "scheduled source checks");
    return due.length;
  }
}
