-- Marks refresh families started through the OAuth endpoints, whose id
-- tokens follow the granted scopes (see storage.RefreshFamily.OAuth), as
-- storage/sqlite's 0003.

ALTER TABLE refresh_families ADD COLUMN oauth BOOLEAN NOT NULL DEFAULT FALSE;
