-- The naive rename: one step, applied while the old release still reads and
-- writes "name". Untagged, so it is an expand step (the conservative default).
ALTER TABLE users RENAME COLUMN name TO full_name;
