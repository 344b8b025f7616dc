-- Marks refresh families started through the OAuth endpoints, whose id
-- tokens follow the granted scopes (see storage.RefreshFamily.OAuth).
-- Existing families were all JSON API sign-ins or are treated as such.

ALTER TABLE refresh_families ADD COLUMN oauth BOOLEAN NOT NULL DEFAULT FALSE;
