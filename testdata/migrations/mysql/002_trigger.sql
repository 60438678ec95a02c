ALTER TABLE users ADD COLUMN full_name VARCHAR(200);

CREATE TRIGGER users_full_name BEFORE INSERT ON users
FOR EACH ROW
BEGIN
    IF NEW.full_name IS NULL THEN
        SET NEW.full_name = NEW.name;
    END IF;
END;

BEGIN;
UPDATE users SET full_name = name;
COMMIT;
