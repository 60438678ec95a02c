UPDATE users SET full_name = name WHERE full_name IS NULL;
