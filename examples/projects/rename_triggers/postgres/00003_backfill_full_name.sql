-- +goose Up
-- straddle:phase migrate
-- Copy the rows written before the trigger existed.
UPDATE users SET full_name = name WHERE full_name IS NULL;

-- +goose Down
SELECT 1;
