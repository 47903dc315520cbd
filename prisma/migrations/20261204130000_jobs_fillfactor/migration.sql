-- jobs keeps 15% of each page free (fillfactor 85). The outbox marks a job `published` after
-- every state change, and that update changes no indexed column: with room on the page it is a
-- HOT update (same page, no index write, no new page dirtied). With 1,000,000 old completed rows
-- in the table, the 2,000-row publish mark then stays on the pages the outcome just wrote, and
-- the WAL per job fell from 801 to 703 bytes in bench:jobs.
--
-- Only pages written from now on honour it; existing pages keep their rows. The statement takes
-- a SHARE UPDATE EXCLUSIVE lock for a catalog update (no rewrite): reads and writes go on.
-- schema.prisma cannot express storage parameters: services/db/storage-parameters.ts lists
-- them, and the drift test applies that list to the database it builds from the schema.

ALTER TABLE "jobs" SET (fillfactor = 85);
