-- A pool's external identity providers (Cognito's IdentityProviderType),
-- details, attribute mapping and identifiers as JSON documents, and the
-- links of the providers' users (provider name + subject) to pool users.

CREATE TABLE identity_providers (
    pool_id           TEXT   NOT NULL REFERENCES pools (id),
    name              TEXT   NOT NULL,
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
    pool_id       TEXT   NOT NULL,
    provider_name TEXT   NOT NULL,
    subject       TEXT   NOT NULL,
    username      TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (pool_id, provider_name, subject),
    FOREIGN KEY (pool_id, username) REFERENCES users (pool_id, username) ON DELETE CASCADE
);
CREATE INDEX federated_links_user ON federated_links (pool_id, username);
