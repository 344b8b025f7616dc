package userpool

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/cognate-auth/cognate/storage"
)

// userFilter is a parsed ListUsers filter: `name = "value"` (exact) or
// `name ^= "value"` (prefix).
type userFilter struct {
	attr   string
	prefix bool
	value  string
}

var filterable = map[string]bool{
	"username": true, "email": true, "phone_number": true, "name": true, "given_name": true,
	"family_name": true, "preferred_username": true, "cognito:user_status": true, "status": true, "sub": true,
}

// parseFilter parses Cognito's ListUsers filter syntax.
func parseFilter(f string) (*userFilter, error) {
	f = strings.TrimSpace(f)
	if f == "" {
		return nil, nil
	}
	bad := invalidParam("Error while parsing filter.")
	if len(f) > 256 {
		return nil, bad
	}
	i := strings.IndexAny(f, "=^")
	if i <= 0 {
		return nil, bad
	}
	uf := &userFilter{attr: strings.TrimSpace(f[:i])}
	rest := f[i:]
	switch {
	case strings.HasPrefix(rest, "^="):
		uf.prefix, rest = true, rest[2:]
	case strings.HasPrefix(rest, "="):
		rest = rest[1:]
	default:
		return nil, bad
	}
	if !filterable[uf.attr] {
		return nil, invalidParam("Invalid search attribute: %.64s", uf.attr)
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < 2 || rest[0] != '"' || rest[len(rest)-1] != '"' {
		return nil, bad
	}
	var b strings.Builder
	body := rest[1 : len(rest)-1]
	for j := 0; j < len(body); j++ {
		c := body[j]
		if c == '\\' && j+1 < len(body) {
			j++
			c = body[j]
		} else if c == '"' {
			return nil, bad
		}
		b.WriteByte(c)
	}
	uf.value = b.String()
	return uf, nil
}

func (f *userFilter) match(u storage.User) bool {
	var v string
	switch f.attr {
	case "username":
		v = u.Username
	case "cognito:user_status":
		v = u.Status
	case "status":
		v = "Disabled"
		if u.Enabled {
			v = "Enabled"
		}
	default:
		v = u.Attributes[f.attr]
	}
	if f.prefix {
		return strings.HasPrefix(v, f.value)
	}
	return v == f.value
}

// ListUsers lists a pool's users by username, optionally filtered.
func (s *Service) ListUsers(ctx context.Context, in ListUsersInput) (ListUsersOutput, error) {
	if err := in.validate(); err != nil {
		return ListUsersOutput{}, err
	}
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return ListUsersOutput{}, err
	}
	limit := in.Limit
	if limit == 0 {
		limit = int(queryLimit.max)
	}
	filter, err := parseFilter(in.Filter)
	if err != nil {
		return ListUsersOutput{}, err
	}
	after := ""
	if in.PaginationToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.PaginationToken)
		if err != nil {
			return ListUsersOutput{}, invalidParam("Invalid pagination token.")
		}
		after = string(raw)
	}
	out := ListUsersOutput{Users: []UserType{}}
	for {
		page, err := s.store.ListUsers(ctx, p.ID, after, 200)
		if err != nil {
			return ListUsersOutput{}, internal("list users", err)
		}
		for _, u := range page {
			after = u.Username
			if filter != nil && !filter.match(u) {
				continue
			}
			if len(out.Users) == limit {
				out.PaginationToken = base64.RawURLEncoding.EncodeToString([]byte(out.Users[limit-1].Username))
				return out, nil
			}
			out.Users = append(out.Users, projectUser(u, in.AttributesToGet))
		}
		if len(page) < 200 {
			return out, nil
		}
	}
}

func projectUser(u storage.User, only []string) UserType {
	t := userType(u)
	if len(only) == 0 {
		return t
	}
	kept := t.Attributes[:0]
	for _, a := range t.Attributes {
		if contains(only, a.Name) {
			kept = append(kept, a)
		}
	}
	t.Attributes = kept
	return t
}
