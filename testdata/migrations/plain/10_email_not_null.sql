/* Runs after 2_email.sql: plain files are in natural order. */
UPDATE users SET email = name || '@example.com' WHERE email IS NULL;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
