/**
 * Representative data for a drill source that is empty (`restore-drill --seed`): the committed
 * migrations, then products in every status with translations, images, events and source checks,
 * the imports that brought them, their jobs in every state (dead ones with errors and histories)
 * and archived jobs. Every kind of column the schema uses is exercised: uuid, enums, text with
 * non-ASCII characters, numeric, char(3), jsonb, text[], timestamptz with milliseconds, NULLs and
 * identity sequences. Deterministic: the same count gives the same rows (up to now()-relative times).
 */
import pg from "pg";
import { applyMigrations } from "../../services/db/migrations.js";
import { pgExecutor } from "../../services/db/executors.js";
import { databaseName, withDatabase } from "../backup/pg-tools.js";

export interface SeedResult {
  readonly created: boolean;
  readonly migrated: number;
  /** Products inserted (0 when the database already had products). */
  readonly products: number;
}

/** Creates the database if it does not exist (on the same server, through its `postgres` database). */
async function ensureDatabase(url: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  await admin.connect();
  try {
    const name = databaseName(url);
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (exists.rowCount) return false;
    await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    return true;
  } finally {
    await admin.end();
  }
}

/** Seeds `products` products (and everything around them) unless the database already holds products. */
export async function seedDatabase(url: string, products = 2000): Promise<SeedResult> {
  const created = await ensureDatabase(url);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const migrated = (await applyMigrations(pgExecutor(c))).applied.length;
    const has = await c.query<{ n: string }>("SELECT count(*)::text AS n FROM products");
    if (Number(has.rows[0]!.n) > 0) return { created, migrated, products: 0 };
    await c.query("BEGIN");
    await c.query(SEED_UUID_FUNCTION);
    await c.query(SEED_SQL, [products]);
    await c.query("COMMIT");
    return { created, migrated, products };
  } catch (err) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    await c.end();
  }
}

/** A deterministic, valid version-4 uuid from a text (the API validates ids as RFC 9562 uuids). */
const SEED_UUID_FUNCTION = `CREATE FUNCTION pg_temp.seed_uuid(text) RETURNS uuid LANGUAGE sql IMMUTABLE
  AS $$ SELECT overlay(overlay(md5($1) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid $$`;

// One statement (a chain of data-modifying CTEs), so it runs with one parameter: the product count.
// Ids are md5-derived uuids (seed_uuid) so the same n always gives the same keys.
const SEED_SQL = `
WITH params AS (SELECT $1::int AS n),
statuses AS (
  SELECT array['imported','translating','processing_images','in_review','approved','rejected','pushed','failed','source_gone']::"ProductStatus"[] AS s
),
p AS (
  INSERT INTO products (id, source_url, status, title, description, price, currency, source_language, source_etag,
                        source_data, review_started_at, reviewed_at, reviewer, review_notes, store_product_id, pushed_at,
                        last_checked_at, last_check_outcome, failure_reason, version, created_at, updated_at, status_changed_at)
  SELECT pg_temp.seed_uuid('product' || i),
         'https://supplier-' || (i % 7) || '.example/p/' || i,
         st.s[1 + i % 9],
         (array['Wasserkocher – Edelstahl 1,7 l', 'Bouilloire électrique', 'Desk lamp "Aurora"', 'Tasse à café ☕', 'Kettle, 1.5 L'])[1 + i % 5] || ' #' || i,
         repeat('Lorem ipsum dolor sit amet. ', 1 + i % 4),
         CASE WHEN i % 11 = 0 THEN NULL ELSE round((5 + (i * 37 % 9000) / 13.0)::numeric, 2) END,
         CASE WHEN i % 11 = 0 THEN NULL ELSE (array['EUR','USD','GBP'])[1 + i % 3] END,
         (array['en','de','fr'])[1 + i % 3],
         CASE WHEN i % 3 = 0 THEN '"etag-' || i || '"' END,
         jsonb_build_object('sku', 'SKU-' || i, 'tags', jsonb_build_array('kitchen', i % 5), 'dimensions', jsonb_build_object('w', i % 40, 'h', 1.5 * (i % 9))),
         CASE WHEN i % 9 >= 3 THEN now() - make_interval(mins => i % 600) END,
         CASE WHEN i % 9 >= 4 AND i % 9 <> 7 THEN now() - make_interval(mins => i % 300) END,
         CASE WHEN i % 9 >= 4 AND i % 9 <> 7 THEN (array['alice','bob','chloé'])[1 + i % 3] END,
         CASE WHEN i % 9 = 5 THEN 'Blurry main image' END,
         CASE WHEN i % 9 = 6 THEN 'store-' || i END,
         CASE WHEN i % 9 = 6 THEN now() - make_interval(mins => i % 120) END,
         CASE WHEN i % 2 = 0 THEN now() - make_interval(hours => i % 48) END,
         CASE WHEN i % 2 = 0 THEN (array['available','price_changed','gone','error']::"SourceCheckOutcome"[])[1 + i % 4] END,
         CASE WHEN i % 9 = 7 THEN 'image job dead: corrupt JPEG' END,
         i % 6,
         now() - make_interval(days => i % 90, secs => (i % 1000) / 7.0),
         now() - make_interval(mins => i % 900),
         now() - make_interval(mins => i % 900)
    FROM params, statuses st, generate_series(1, (SELECT n FROM params)) AS i
  RETURNING id, status, source_url, created_at
),
t AS (
  INSERT INTO translations (product_id, language, title, description, provider, created_at)
  SELECT p.id, lang, lang || ': ' || left(p.source_url, 40), 'Übersetzt / traduit', 'libretranslate', p.created_at + interval '2 seconds'
    FROM p CROSS JOIN unnest(array['de','fr']) AS lang
   WHERE p.status NOT IN ('imported', 'translating')
  RETURNING 1
),
img AS (
  INSERT INTO product_images (id, product_id, position, source_url, width, height, format, bytes, checksum, variants, created_at)
  SELECT pg_temp.seed_uuid(p.id::text || pos), p.id, pos, p.source_url || '/img/' || pos || '.jpg', 1200, 900, 'jpeg', 150000 + pos,
         md5(p.id::text || 'img' || pos),
         jsonb_build_array(jsonb_build_object('name', 'thumb', 'width', 200, 'height', 150, 'format', 'webp', 'key', 'images/' || p.id || '/' || pos || '-thumb.webp', 'bytes', 8000)),
         p.created_at + interval '5 seconds'
    FROM p CROSS JOIN generate_series(0, 1) AS pos
   WHERE p.status NOT IN ('imported', 'translating', 'processing_images')
  RETURNING 1
),
ev AS (
  INSERT INTO product_events (product_id, from_status, to_status, actor, details, at)
  SELECT p.id, prev, nxt, CASE WHEN step = 3 THEN 'reviewer' ELSE 'worker' END, jsonb_build_object('step', step), p.created_at + make_interval(secs => step)
    FROM p, LATERAL (VALUES (1, NULL::"ProductStatus", 'imported'::"ProductStatus"), (2, 'imported', 'translating'), (3, 'translating', p.status)) AS e(step, prev, nxt)
  RETURNING 1
),
sc AS (
  INSERT INTO source_checks (product_id, outcome, http_status, latency_ms, old_price, new_price, error, checked_at, job_id)
  SELECT p.id, o.outcome, CASE o.outcome WHEN 'gone' THEN 404 WHEN 'error' THEN NULL ELSE 200 END, 20 + k * 3,
         CASE WHEN o.outcome = 'price_changed' THEN 10.00 END, CASE WHEN o.outcome = 'price_changed' THEN 12.50 END,
         CASE WHEN o.outcome = 'error' THEN 'ECONNRESET' END, now() - make_interval(hours => k), pg_temp.seed_uuid(p.id::text || 'check' || k)
    FROM p, generate_series(1, 2) AS k,
         LATERAL (SELECT (array['available','price_changed','gone','error']::"SourceCheckOutcome"[])[1 + (abs(hashtext(p.id::text)) + k) % 4] AS outcome) o
  RETURNING 1
),
imp AS (
  INSERT INTO imports (id, request_id, source_urls, created_at)
  SELECT pg_temp.seed_uuid('import' || g), 'req-' || g, array_agg(p.source_url ORDER BY p.source_url), min(p.created_at)
    FROM (SELECT p.*, row_number() OVER (ORDER BY p.source_url) / 50 AS g FROM p) p
   GROUP BY g
  RETURNING id, source_urls
),
items AS (
  INSERT INTO import_items (import_id, source_url, product_id, job_id, error)
  SELECT imp.id, u, pg_temp.seed_uuid('product' || substring(u from '/p/(\\d+)$')), pg_temp.seed_uuid('job-import' || u), NULL
    FROM imp CROSS JOIN unnest(imp.source_urls) AS u
  RETURNING 1
),
j AS (
  INSERT INTO jobs (id, type, status, payload, attempts, max_attempts, request_id, run_at, started_at, finished_at, duration_ms,
                    last_error, last_error_stack, history, published, dead_at, created_at, updated_at)
  SELECT pg_temp.seed_uuid('job-' || jt || p.source_url), jt::"JobType", js::"JobStatus",
         jsonb_build_object('productId', p.id, 'language', 'de'),
         CASE js WHEN 'dead' THEN 6 WHEN 'failed' THEN 2 ELSE 1 END, 6, 'req-' || left(md5(p.source_url), 8),
         CASE WHEN js = 'failed' THEN now() + interval '4 seconds' END,
         CASE WHEN js <> 'pending' THEN p.created_at + interval '1 second' END,
         CASE WHEN js IN ('completed', 'dead') THEN p.created_at + interval '1.25 seconds' END,
         CASE WHEN js IN ('completed', 'dead') THEN 250 END,
         CASE WHEN js IN ('dead', 'failed') THEN 'store answered 503' END,
         CASE WHEN js = 'dead' THEN E'Error: store answered 503\\n    at push (services/workers/push.ts:42:11)' END,
         CASE WHEN js IN ('dead', 'failed') THEN jsonb_build_array(jsonb_build_object('attempt', 1, 'durationMs', 250, 'error', 'store answered 503')) ELSE '[]'::jsonb END,
         js <> 'pending', CASE WHEN js = 'dead' THEN now() - interval '1 hour' END, p.created_at, p.created_at + interval '2 seconds'
    FROM p CROSS JOIN unnest(array['import','translation','image','source_check','push']) AS jt,
         LATERAL (SELECT (array['completed','completed','completed','completed','completed','completed','pending','processing','failed','dead'])[1 + abs(hashtext(p.id::text || jt)) % 10] AS js) s
  RETURNING 1
),
aj AS (
  INSERT INTO archived_jobs (id, type, status, payload, attempts, max_attempts, request_id, last_error, last_error_stack, history, dead_at, created_at, archived_at)
  SELECT pg_temp.seed_uuid('archived' || i), (array['image','push','translation']::"JobType"[])[1 + i % 3], 'dead', jsonb_build_object('productId', pg_temp.seed_uuid('product' || i)),
         6, 6, NULL, 'gave up after 5 retries', NULL, '[]'::jsonb, now() - interval '40 days', now() - interval '41 days', now() - interval '9 days'
    FROM params, generate_series(1, greatest(1, (SELECT n FROM params) / 20)) AS i
  RETURNING 1
)
SELECT (SELECT count(*) FROM p) AS products, (SELECT count(*) FROM t) AS translations, (SELECT count(*) FROM img) AS images,
       (SELECT count(*) FROM ev) AS events, (SELECT count(*) FROM sc) AS checks, (SELECT count(*) FROM items) AS items,
       (SELECT count(*) FROM j) AS jobs, (SELECT count(*) FROM aj) AS archived
`;
