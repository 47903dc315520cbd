/**
 * `npm run e2e:deployed -- --base-url <api> --source-url <product page> [--token-file <f>] [--budget 10m]`
 *
 * The end-to-end run deploy.yml makes against staging after the smoke tests: one product goes the
 * whole way through the deployed pipeline, through every component a release can break (the API,
 * RabbitMQ, the import, translation and image workers, PostgreSQL, the image bucket):
 *   import          POST /v1/imports with the source URL answers 202 with an import id
 *   imported        the import's item gets a product (the import worker fetched and parsed the page)
 *   in-review       the product reaches in_review (translated, its images processed)
 *   translations    GET /v1/products/<id> has a translation for every target language it names
 *   images          and every image has a checksum and its variants
 * The source URL is a product page the environment's workers can fetch (a public page: production
 * blocks private addresses). It writes one product to the environment; nothing is pushed to a store.
 * One line per step with its time; exits 0 when the product made it, 1 otherwise, 2 on bad usage.
 */
import { z } from "zod";
import { Budget, Report, UsageError, durationFlag, parseFlags, readToken, request, runCli, sleep, snippet, urlFlag } from "./checks.js";

const USAGE = "npm run e2e:deployed -- --base-url <url> --source-url <url> [--token-file <file>] [--budget 10m]";

const importItem = z.object({ productId: z.string().nullable(), productStatus: z.string().nullable(), error: z.string().nullable().optional() });
const importBody = z.object({ items: z.array(importItem).min(1) });
const product = z.object({
  status: z.string(),
  translations: z.array(z.object({ language: z.string(), title: z.string() })),
  images: z.array(z.object({ checksum: z.string(), variants: z.array(z.object({ name: z.string() })) })),
});
const TERMINAL_FAILURES = new Set(["failed", "source_gone", "rejected"]);

runCli("e2e:deployed", USAGE, async () => {
  const flags = parseFlags({ "base-url": { type: "string" }, "source-url": { type: "string" }, "token-file": { type: "string" }, budget: { type: "string", default: "10m" } });
  const base = urlFlag("base-url", flags["base-url"], true);
  const source = urlFlag("source-url", flags["source-url"], true);
  const budget = new Budget(durationFlag("budget", flags.budget));
  const token = readToken(flags["token-file"]);
  if (!token) throw new UsageError("a token is required: --token-file <file> or SMOKE_TOKEN");
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const report = new Report();
  const t0 = budget.elapsedMs;
  const since = () => `${((budget.elapsedMs - t0) / 1000).toFixed(1)} s`;
  console.log(`e2e: ${source} through ${base}, budget ${(budget.totalMs / 1000).toFixed(0)} s`);

  const finish = () => report.summary("e2e", budget);
  const created = await request(`${base}/v1/imports`, budget, { method: "POST", headers, body: JSON.stringify({ sourceUrls: [source] }) }).catch((err: Error) => err);
  if (created instanceof Error || created.status !== 202) {
    report.add({ name: "import", ok: false, detail: created instanceof Error ? created.message : `expected 202, got ${created.status} ${snippet(created.text)}` });
    return finish();
  }
  const importId = z.object({ importId: z.string() }).parse(JSON.parse(created.text)).importId;
  report.add({ name: "import", ok: true, detail: `POST /v1/imports -> 202, import ${importId}` });

  /** Polls the import until its item's product is in one of `statuses` (any, when null); a failure status ends it early. */
  const waitForItem = async (statuses: readonly string[] | null): Promise<{ ok: boolean; detail: string; productId?: string }> => {
    let last = "no answer yet";
    while (!budget.exhausted) {
      const res = await request(`${base}/v1/imports/${importId}`, budget, { headers }).catch((err: Error) => err);
      if (!(res instanceof Error) && res.status === 200) {
        const parsed = importBody.safeParse(JSON.parse(res.text));
        if (parsed.success) {
          const item = parsed.data.items[0]!;
          last = `product ${item.productId ?? "(none yet)"} is ${item.productStatus ?? "pending"}${item.error ? `: ${item.error}` : ""}`;
          if (item.productId && item.productStatus && (statuses === null || statuses.includes(item.productStatus))) return { ok: true, detail: `${last} after ${since()}`, productId: item.productId };
          if (item.productStatus && TERMINAL_FAILURES.has(item.productStatus)) return { ok: false, detail: last };
          if (item.error && !item.productId) return { ok: false, detail: last };
        } else last = `unexpected import body ${snippet(res.text)}`;
      } else last = res instanceof Error ? res.message : `GET /v1/imports/${importId} -> ${res.status}`;
      await sleep(Math.min(1000, budget.remainingMs));
    }
    return { ok: false, detail: `not within the budget: ${last}` };
  };

  // Imported: the import worker fetched the page and created the product (whatever happened next).
  const imported = await waitForItem(null);
  report.add({ name: "imported", ...imported });
  if (!imported.ok) return finish();
  const reviewed = await waitForItem(["in_review"]);
  report.add({ name: "in-review", ...reviewed });
  if (!reviewed.ok) return finish();

  const res = await request(`${base}/v1/products/${reviewed.productId}`, budget, { headers }).catch((err: Error) => err);
  const body = res instanceof Error || res.status !== 200 ? undefined : product.safeParse(JSON.parse(res.text));
  if (!body?.success) {
    report.add({ name: "translations", ok: false, detail: res instanceof Error ? res.message : `GET /v1/products/${reviewed.productId} -> ${res.status} ${snippet(res.text)}` });
    return finish();
  }
  const languages = body.data.translations.map((t) => t.language);
  report.add({ name: "translations", ok: languages.length > 0, detail: languages.length > 0 ? `${languages.join(", ")}` : "no translation" });
  const images = body.data.images;
  const imagesOk = images.length > 0 && images.every((i) => /^[0-9a-f]{64}$/.test(i.checksum) && i.variants.length > 0);
  report.add({ name: "images", ok: imagesOk, detail: imagesOk ? `${images.length} image(s), variants ${images[0]!.variants.map((v) => v.name).join(", ")}` : `images without checksum or variants: ${snippet(JSON.stringify(images))}` });
  return finish();
});
