-- The job engine writes each job's state twice; every index on jobs is written on each
-- state change. One (status, type) index serves the stuck detector, the outbox, the
-- archiver, the dead-letter counts and the job listing filters.

-- DropIndex
DROP INDEX "jobs_type_status_idx";

-- DropIndex
DROP INDEX "jobs_status_started_at_idx";

-- DropIndex
DROP INDEX "jobs_published_status_idx";

-- DropIndex
DROP INDEX "jobs_status_dead_at_idx";

-- CreateIndex
CREATE INDEX "jobs_status_type_idx" ON "jobs"("status", "type");
