-- CreateEnum
CREATE TYPE "JobType" AS ENUM ('import', 'translation', 'image', 'source_check', 'push');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('pending', 'processing', 'completed', 'failed', 'dead');

-- CreateEnum
CREATE TYPE "ProductStatus" AS ENUM ('imported', 'translating', 'processing_images', 'in_review', 'approved', 'rejected', 'pushed', 'failed', 'source_gone');

-- CreateEnum
CREATE TYPE "SourceCheckOutcome" AS ENUM ('available', 'gone', 'price_changed', 'error');

-- CreateTable
CREATE TABLE "jobs" (
    "id" UUID NOT NULL,
    "type" "JobType" NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'pending',
    "payload" JSONB NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL,
    "request_id" TEXT,
    "run_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "duration_ms" INTEGER,
    "last_error" TEXT,
    "last_error_stack" TEXT,
    "history" JSONB NOT NULL DEFAULT '[]',
    "published" BOOLEAN NOT NULL DEFAULT false,
    "dead_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "archived_jobs" (
    "id" UUID NOT NULL,
    "type" "JobType" NOT NULL,
    "status" "JobStatus" NOT NULL,
    "payload" JSONB NOT NULL,
    "attempts" INTEGER NOT NULL,
    "max_attempts" INTEGER NOT NULL,
    "request_id" TEXT,
    "last_error" TEXT,
    "last_error_stack" TEXT,
    "history" JSONB NOT NULL,
    "dead_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "archived_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "archived_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "imports" (
    "id" UUID NOT NULL,
    "request_id" TEXT,
    "source_urls" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "imports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_items" (
    "import_id" UUID NOT NULL,
    "source_url" TEXT NOT NULL,
    "product_id" UUID,
    "job_id" UUID,
    "error" TEXT,

    CONSTRAINT "import_items_pkey" PRIMARY KEY ("import_id","source_url")
);

-- CreateTable
CREATE TABLE "products" (
    "id" UUID NOT NULL,
    "source_url" TEXT NOT NULL,
    "status" "ProductStatus" NOT NULL DEFAULT 'imported',
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "price" DECIMAL(12,2),
    "currency" CHAR(3),
    "source_language" TEXT NOT NULL DEFAULT 'en',
    "source_etag" TEXT,
    "source_last_modified" TEXT,
    "source_data" JSONB NOT NULL DEFAULT '{}',
    "review_started_at" TIMESTAMPTZ(3),
    "reviewed_at" TIMESTAMPTZ(3),
    "reviewer" TEXT,
    "review_notes" TEXT,
    "store_product_id" TEXT,
    "pushed_at" TIMESTAMPTZ(3),
    "last_checked_at" TIMESTAMPTZ(3),
    "last_check_outcome" "SourceCheckOutcome",
    "failure_reason" TEXT,
    "version" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "products_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "translations" (
    "product_id" UUID NOT NULL,
    "language" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "translations_pkey" PRIMARY KEY ("product_id","language")
);

-- CreateTable
CREATE TABLE "product_images" (
    "id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "source_url" TEXT NOT NULL,
    "width" INTEGER,
    "height" INTEGER,
    "format" TEXT,
    "bytes" INTEGER,
    "checksum" TEXT,
    "variants" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "product_images_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "product_events" (
    "id" BIGSERIAL NOT NULL,
    "product_id" UUID NOT NULL,
    "from_status" "ProductStatus",
    "to_status" "ProductStatus" NOT NULL,
    "actor" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "product_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "source_checks" (
    "id" BIGSERIAL NOT NULL,
    "product_id" UUID NOT NULL,
    "outcome" "SourceCheckOutcome" NOT NULL,
    "http_status" INTEGER,
    "latency_ms" INTEGER NOT NULL,
    "old_price" DECIMAL(12,2),
    "new_price" DECIMAL(12,2),
    "error" TEXT,
    "checked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "source_checks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "jobs_type_status_idx" ON "jobs"("type", "status");

-- CreateIndex
CREATE INDEX "jobs_status_started_at_idx" ON "jobs"("status", "started_at");

-- CreateIndex
CREATE INDEX "jobs_published_status_idx" ON "jobs"("published", "status");

-- CreateIndex
CREATE INDEX "jobs_status_dead_at_idx" ON "jobs"("status", "dead_at");

-- CreateIndex
CREATE INDEX "archived_jobs_type_archived_at_idx" ON "archived_jobs"("type", "archived_at");

-- CreateIndex
CREATE INDEX "import_items_product_id_idx" ON "import_items"("product_id");

-- CreateIndex
CREATE UNIQUE INDEX "products_source_url_key" ON "products"("source_url");

-- CreateIndex
CREATE INDEX "products_status_id_idx" ON "products"("status", "id");

-- CreateIndex
CREATE INDEX "products_last_checked_at_idx" ON "products"("last_checked_at");

-- CreateIndex
CREATE UNIQUE INDEX "product_images_product_id_position_key" ON "product_images"("product_id", "position");

-- CreateIndex
CREATE INDEX "product_events_product_id_at_idx" ON "product_events"("product_id", "at");

-- CreateIndex
CREATE INDEX "source_checks_product_id_checked_at_idx" ON "source_checks"("product_id", "checked_at");

-- CreateIndex
CREATE INDEX "source_checks_checked_at_idx" ON "source_checks"("checked_at");

-- AddForeignKey
ALTER TABLE "import_items" ADD CONSTRAINT "import_items_import_id_fkey" FOREIGN KEY ("import_id") REFERENCES "imports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "import_items" ADD CONSTRAINT "import_items_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "translations" ADD CONSTRAINT "translations_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "product_images" ADD CONSTRAINT "product_images_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "product_events" ADD CONSTRAINT "product_events_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "source_checks" ADD CONSTRAINT "source_checks_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;

