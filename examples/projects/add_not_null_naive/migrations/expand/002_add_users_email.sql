-- NOT NULL without a default on a table that has rows. PostgreSQL refuses the
-- step (23502); MariaDB accepts it, filling in '', and then rejects every old
-- INSERT that leaves the column out (1364).
ALTER TABLE users ADD COLUMN email VARCHAR(200) NOT NULL;
