-- The version a push sent to the store: the store's Idempotency-Key includes the product's
-- version, so a changed product reaches the store and an unchanged re-push is replayed.

-- AlterTable
ALTER TABLE "products" ADD COLUMN     "pushed_version" INTEGER;
