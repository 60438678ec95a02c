DELIMITER //
CREATE PROCEDURE backfill()
BEGIN
    UPDATE users SET full_name = name WHERE full_name IS NULL;
END //
DELIMITER ;
CALL backfill();
