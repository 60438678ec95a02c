-- Expand: a nullable column the old release ignores.
ALTER TABLE users ADD COLUMN email text;
