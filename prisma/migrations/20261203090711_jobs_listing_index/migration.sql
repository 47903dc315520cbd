-- The single secondary index of jobs gains created_at and id: the job listing (type/status
-- filters, newest first) and the completed-job retention (oldest first) read it in order,
-- without a sort, and the engine still writes one index per state change. The new index is
-- built before the old one is dropped, so no query is ever without one. The build takes a
-- SHARE lock (writes to jobs wait) for as long as it runs: on a large table, deploy it in a
-- quiet period, or build "jobs_status_type_created_at_id_idx" by hand first with CREATE INDEX
-- CONCURRENTLY (this statement then finds it and does nothing).

-- CreateIndex
CREATE INDEX IF NOT EXISTS "jobs_status_type_created_at_id_idx" ON "jobs"("status", "type", "created_at", "id");

-- DropIndex
DROP INDEX "jobs_status_type_idx";
