-- AlterTable: the job that recorded a source check (idempotent source_check jobs).
ALTER TABLE "source_checks" ADD COLUMN "job_id" UUID;

-- CreateIndex
CREATE UNIQUE INDEX "source_checks_job_id_key" ON "source_checks"("job_id");
