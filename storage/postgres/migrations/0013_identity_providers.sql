-- A pool's external identity providers (Cognito's IdentityProviderType),
-- details, attribute mapping and identifiers as JSON documents, and the
-- links of the providers' users (provider name + subject) to pool users.
-- As storage/sqlite's 0013, keys in the "C" collation (bytewise order).

CREATE TABLE identity_providers (
    pool_id           TEXT COLLATE "C" NOT NULL REFERENCES pools (id),
    name              TEXT COLLATE "C" NOT NULL,
    type              TEXT   NOT NULL,
    details           TEXT   NOT NULL,
    attribute_mapping TEXT   NOT NULL,
    identifiers       TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (pool_id, name)
);

-- No reference to identity_providers: a link may be made before its
-- provider exists (AdminLinkProviderForUser allows it); deleting a
-- provider deletes its links explicitly.
CREATE TABLE federated_links (
    pool_id       TEXT COLLATE "C" NOT NULL,
    provider_name TEXT COLLATE "C" NOT NULL,
    subject       TEXT COLLATE "C" NOT NULL,
    username      TEXT COLLATE "C" NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (pool_id, provider_name, subject),
    FOREIGN KEY (pool_id, username) REFERENCES users (pool_id, username) ON DELETE CASCADE
);
CREATE INDEX federated_links_user ON federated_links (pool_id, username);
