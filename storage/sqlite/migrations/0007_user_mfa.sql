-- A user's MFA factors, preference and sealed authenticator secret, as
-- one JSON document (storage.UserMFA); '{}' for a user without MFA.
ALTER TABLE users ADD COLUMN mfa TEXT NOT NULL DEFAULT '{}';
