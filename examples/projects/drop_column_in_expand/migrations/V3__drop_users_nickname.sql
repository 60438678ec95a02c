-- The new release no longer uses "nickname", but the old one still reads and
-- writes it: dropping it belongs in the contract phase, not here.
ALTER TABLE users DROP COLUMN nickname;
