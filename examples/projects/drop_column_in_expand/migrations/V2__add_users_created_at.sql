-- Harmless: a nullable column the old release does not know about.
ALTER TABLE users ADD COLUMN created_at TIMESTAMP NULL;
