-- +goose Up
-- straddle:phase expand
-- Add the new column and keep both in sync while old and new releases write:
-- old writes "name", new writes "full_name", the trigger fills in the other.
-- "name" may be left out by new writers, so it can no longer be NOT NULL.
ALTER TABLE users ADD COLUMN full_name VARCHAR(100);
ALTER TABLE users ALTER COLUMN name DROP NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION users_sync_full_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.full_name := COALESCE(NEW.full_name, NEW.name);
    NEW.name := COALESCE(NEW.name, NEW.full_name);
  ELSIF NEW.name IS DISTINCT FROM OLD.name THEN
    NEW.full_name := NEW.name;
  ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN
    NEW.name := NEW.full_name;
  END IF;
  RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER users_sync_full_name BEFORE INSERT OR UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION users_sync_full_name();

-- +goose Down
DROP TRIGGER users_sync_full_name ON users;
DROP FUNCTION users_sync_full_name();
ALTER TABLE users DROP COLUMN full_name;
