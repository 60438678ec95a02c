-- +migrate Up
-- +migrate StatementBegin
CREATE FUNCTION fav_count(u bigint) RETURNS bigint AS $$
  SELECT count(*) FROM user_favorites WHERE user_id = u;
$$ LANGUAGE sql;
-- +migrate StatementEnd
ALTER TABLE user_favorites ADD COLUMN note text;

-- +migrate Down
DROP FUNCTION fav_count(bigint);
