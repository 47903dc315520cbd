-- CreateTable
CREATE TABLE "job_publish_intents" (
    "id" UUID NOT NULL,
    "job_ids" UUID[],
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "job_publish_intents_pkey" PRIMARY KEY ("id")
);

