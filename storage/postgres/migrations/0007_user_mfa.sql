-- A user's MFA factors, preference and sealed authenticator secret, as
-- one JSON document (storage.UserMFA); '{}' for a user without MFA. TEXT,
-- not JSONB: it is read and written whole, never queried into. As
-- storage/sqlite's 0007.
ALTER TABLE users ADD COLUMN mfa TEXT NOT NULL DEFAULT '{}';
