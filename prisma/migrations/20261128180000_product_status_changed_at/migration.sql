-- AlterTable: when the product entered its current status (pipeline workers and review timing).
ALTER TABLE "products" ADD COLUMN "status_changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
