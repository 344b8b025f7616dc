-- The CustomMessage trigger's templates travel with the queued message:
-- the code (and username) are substituted into them only at delivery.
-- NULL means the default text.

ALTER TABLE messages ADD COLUMN custom_subject TEXT;
ALTER TABLE messages ADD COLUMN custom_body TEXT;
