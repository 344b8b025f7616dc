package userpool

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/cognate-auth/cognate/storage"
)

// ListUserPoolClientsInput is ListUserPoolClients' request. MaxResults and
// NextToken are pointers because Cognito tells a member left out from one
// given as 0 or "": left out, MaxResults takes the default page size and
// NextToken starts at the first client; given as 0 or "", each is outside
// the model's range and refused.
type ListUserPoolClientsInput struct {
	UserPoolId string  `json:"UserPoolId"`
	MaxResults *int    `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

// UserPoolClientDescription is a ListUserPoolClients entry: an app client
// named, never described (no secret, no settings).
type UserPoolClientDescription struct {
	ClientId   string `json:"ClientId"`
	ClientName string `json:"ClientName"`
	UserPoolId string `json:"UserPoolId"`
}

// ListUserPoolClientsOutput is ListUserPoolClients' response. NextToken is
// left out on the last page.
type ListUserPoolClientsOutput struct {
	UserPoolClients []UserPoolClientDescription `json:"UserPoolClients"`
	NextToken       string                      `json:"NextToken,omitempty"`
}

// The model's constraints of ListUserPoolClients' members (cognito-idp
// 2016-04-18: UserPoolIdType, QueryLimit, PaginationKey). PaginationKey's
// maximum (131072) is beyond cognitoapi's body limit and left out.
var (
	clientQueryLimit = span{1, 60}
	userPoolIDLength = span{1, 55}
	userPoolIDRule   = `[\w-]+_[0-9a-zA-Z]+`
	userPoolIDRE     = regexp.MustCompile(`^(?:` + userPoolIDRule + `)$`)
)

// paginationKeyRule is PaginationKey's pattern, [\S]+. Java's \s, which
// AWS's validation applies, includes the vertical tab; RE2's does not, so
// the whitespace is listed here rather than left to a Go \S.
const (
	paginationKeyRule  = `[\S]+`
	paginationKeySpace = " \t\n\v\f\r"
)

func (in ListUserPoolClientsInput) validate() error {
	var v violations
	v.required("userPoolId", in.UserPoolId)
	if in.UserPoolId != "" {
		if !userPoolIDRE.MatchString(in.UserPoolId) {
			v.fail(in.UserPoolId, "userPoolId", "Member must satisfy regular expression pattern: "+userPoolIDRule)
		}
		v.length("userPoolId", in.UserPoolId, userPoolIDLength)
	}
	if in.MaxResults != nil {
		v.number("maxResults", int64(*in.MaxResults), clientQueryLimit)
	}
	if t := in.NextToken; t != nil {
		if *t == "" {
			v.fail(*t, "nextToken", "Member must have length greater than or equal to 1")
		} else if strings.ContainsAny(*t, paginationKeySpace) {
			v.fail(*t, "nextToken", "Member must satisfy regular expression pattern: "+paginationKeyRule)
		}
	}
	return v.err()
}

// ListUserPoolClients lists a pool's app clients in the order of their
// ids, which a new client does not disturb. NextToken is the last id
// returned and the next page starts after it, so paging neither skips nor
// repeats a client, even while clients are created (a new one is listed
// if its id sorts after the token). Left out, MaxResults is 60, the most
// a page may hold.
func (s *Service) ListUserPoolClients(ctx context.Context, in ListUserPoolClientsInput) (ListUserPoolClientsOutput, error) {
	if err := in.validate(); err != nil {
		return ListUserPoolClientsOutput{}, err
	}
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return ListUserPoolClientsOutput{}, err
	}
	clients, err := s.store.ListClients(ctx, p.ID)
	if err != nil {
		return ListUserPoolClientsOutput{}, internal("list clients", err)
	}
	// Each backend orders by its own collation: sort by bytes here, the
	// order the token is compared in.
	slices.SortFunc(clients, func(a, b storage.Client) int { return strings.Compare(a.ClientID, b.ClientID) })
	limit := int(clientQueryLimit.max)
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != nil {
		after := *in.NextToken
		start = sort.Search(len(clients), func(i int) bool { return clients[i].ClientID > after })
	}
	page := clients[start:]
	out := ListUserPoolClientsOutput{UserPoolClients: make([]UserPoolClientDescription, 0, min(len(page), limit))}
	if len(page) > limit {
		page = page[:limit]
		out.NextToken = page[len(page)-1].ClientID
	}
	for _, c := range page {
		out.UserPoolClients = append(out.UserPoolClients, UserPoolClientDescription{ClientId: c.ClientID, ClientName: c.Name, UserPoolId: c.PoolID})
	}
	return out, nil
}
