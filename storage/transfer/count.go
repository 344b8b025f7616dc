package transfer

import (
	"context"

	"github.com/cognate-auth/cognate/storage"
)

// count counts every kind of record Copy copies in s, streaming what may
// be large.
func count(ctx context.Context, s storage.Storage, e storage.Enumerator) (map[Kind]int64, error) {
	n := make(map[Kind]int64, len(Kinds))
	if err := e.EachSecret(ctx, func(string, []byte) error { n[Secrets]++; return nil }); err != nil {
		return nil, err
	}
	pools, err := s.ListPools(ctx)
	if err != nil {
		return nil, err
	}
	n[Pools] = int64(len(pools))
	for _, p := range pools {
		clients, err := s.ListClients(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		keys, err := s.ListSigningKeys(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		groups, err := s.ListGroups(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		n[Clients] += int64(len(clients))
		n[SigningKeys] += int64(len(keys))
		n[Groups] += int64(len(groups))
		provs, err := s.ListIdentityProviders(ctx, p.ID, "", 0)
		if err != nil {
			return nil, err
		}
		n[IdPs] += int64(len(provs))
		err = eachUserPage(ctx, s, p.ID, DefaultBatchSize, func(users []storage.User) error {
			n[Users] += int64(len(users))
			for _, u := range users {
				creds, err := s.ListWebAuthnCredentials(ctx, p.ID, u.Username, nil, 0)
				if err != nil {
					return err
				}
				n[Passkeys] += int64(len(creds))
				devices, err := s.ListDevices(ctx, p.ID, u.Username, "", 0)
				if err != nil {
					return err
				}
				n[Devices] += int64(len(devices))
				links, err := s.ListFederatedLinks(ctx, p.ID, u.Username)
				if err != nil {
					return err
				}
				n[FederatedLinks] += int64(len(links))
			}
			hashes, err := userPasswordHashes(ctx, s, p.ID, users)
			n[PasswordHashes] += int64(len(hashes))
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if err := e.EachGroupMember(ctx, func(string, string, string) error { n[GroupMembers]++; return nil }); err != nil {
		return nil, err
	}
	if err := e.EachCode(ctx, func(storage.Code) error { n[Codes]++; return nil }); err != nil {
		return nil, err
	}
	if err := e.EachRefreshFamily(ctx, func(storage.RefreshFamily) error { n[RefreshFamilies]++; return nil }); err != nil {
		return nil, err
	}
	if err := e.EachRefreshToken(ctx, func(storage.RefreshToken) error { n[RefreshTokens]++; return nil }); err != nil {
		return nil, err
	}
	apiKeys, err := s.ListAPIKeys(ctx)
	if err != nil {
		return nil, err
	}
	n[APIKeys] = int64(len(apiKeys))
	return n, nil
}
