-- The stage a failed product failed in (the dead job's type) and that job's id, written with
-- the failed status; a dead-job retry of that job puts the product back into the stage.

-- AlterTable
ALTER TABLE "products" ADD COLUMN     "failed_job_id" UUID,
ADD COLUMN     "failed_stage" "JobType";
