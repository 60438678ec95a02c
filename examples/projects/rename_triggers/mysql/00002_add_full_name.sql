-- +goose Up
-- straddle:phase expand
-- Add the new column and keep both in sync while old and new releases write:
-- old writes "name", new writes "full_name", the triggers fill in the other.
-- "name" may be left out by new writers, so it can no longer be NOT NULL.
-- MySQL DDL is not transactional: traffic sees each statement land on its own,
-- so the triggers come before "name" is relaxed, and no row written in between
-- is left without a name.
ALTER TABLE users ADD COLUMN full_name VARCHAR(100);

CREATE TRIGGER users_sync_full_name_insert BEFORE INSERT ON users FOR EACH ROW
BEGIN
  IF NEW.full_name IS NULL THEN SET NEW.full_name = NEW.name; END IF;
  IF NEW.name IS NULL THEN SET NEW.name = NEW.full_name; END IF;
END;

CREATE TRIGGER users_sync_full_name_update BEFORE UPDATE ON users FOR EACH ROW
BEGIN
  IF NOT (NEW.name <=> OLD.name) THEN
    SET NEW.full_name = NEW.name;
  ELSEIF NOT (NEW.full_name <=> OLD.full_name) THEN
    SET NEW.name = NEW.full_name;
  END IF;
END;

ALTER TABLE users MODIFY name VARCHAR(100) NULL;

-- +goose Down
DROP TRIGGER users_sync_full_name_insert;
DROP TRIGGER users_sync_full_name_update;
ALTER TABLE users DROP COLUMN full_name;
