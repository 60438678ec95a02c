-- +goose Up
-- straddle:phase migrate
ALTER TABLE users ADD COLUMN full_name text;

-- +goose StatementBegin
CREATE FUNCTION sync_full_name() RETURNS trigger AS $$
BEGIN
    NEW.full_name := NEW.name;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER sync_full_name BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION sync_full_name();

-- +goose Down
-- +goose StatementBegin
DROP TRIGGER sync_full_name ON users;
DROP FUNCTION sync_full_name();
-- +goose StatementEnd
