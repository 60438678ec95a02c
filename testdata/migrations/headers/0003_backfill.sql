--straddle:phase migrate
UPDATE users SET full_name = name;
