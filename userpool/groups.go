package userpool

import (
	"context"
	"errors"
	"sort"

	"github.com/cognate-auth/cognate/storage"
)

func groupType(g storage.Group) GroupType {
	return GroupType{
		GroupName: g.Name, UserPoolId: g.PoolID, Description: g.Description, RoleArn: g.RoleArn,
		Precedence: g.Precedence, CreationDate: Epoch(g.CreatedAt), LastModifiedDate: Epoch(g.UpdatedAt),
	}
}

// CreateGroup creates a group.
func (s *Service) CreateGroup(ctx context.Context, in CreateGroupInput) (GroupOutput, error) {
	if err := in.validate(); err != nil {
		return GroupOutput{}, err
	}
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return GroupOutput{}, err
	}
	now := s.now()
	g := storage.Group{PoolID: p.ID, Name: in.GroupName, Description: in.Description, RoleArn: in.RoleArn, Precedence: in.Precedence, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateGroup(ctx, g); errors.Is(err, storage.ErrAlreadyExists) {
		return GroupOutput{}, errorf(ErrGroupExists, "A group with the name %s already exists.", in.GroupName)
	} else if err != nil {
		return GroupOutput{}, internal("create group", err)
	}
	return GroupOutput{Group: groupType(g)}, nil
}

// pageGroups pages a group list by name: NextToken is the last name
// returned. A limit of 0 is Cognito's default, 60.
func pageGroups(groups []storage.Group, limit int, next string) GroupsOutput {
	if limit == 0 {
		limit = int(queryLimit.max)
	}
	out := GroupsOutput{Groups: []GroupType{}}
	passed := next == ""
	for _, g := range groups {
		if !passed {
			passed = g.Name == next
			continue
		}
		if len(out.Groups) == limit {
			out.NextToken = out.Groups[limit-1].GroupName
			break
		}
		out.Groups = append(out.Groups, groupType(g))
	}
	return out
}

// ListGroups lists a pool's groups by name.
func (s *Service) ListGroups(ctx context.Context, in ListGroupsInput) (GroupsOutput, error) {
	if err := in.validate(); err != nil {
		return GroupsOutput{}, err
	}
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return GroupsOutput{}, err
	}
	groups, err := s.store.ListGroups(ctx, p.ID)
	if err != nil {
		return GroupsOutput{}, internal("list groups", err)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	return pageGroups(groups, in.Limit, in.NextToken), nil
}

// AdminListGroupsForUser lists a user's groups.
func (s *Service) AdminListGroupsForUser(ctx context.Context, in AdminListGroupsForUserInput) (GroupsOutput, error) {
	if err := in.validate(); err != nil {
		return GroupsOutput{}, err
	}
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return GroupsOutput{}, err
	}
	groups, err := s.store.ListGroupsForUser(ctx, p.ID, u.Username)
	if err != nil {
		return GroupsOutput{}, internal("list groups for user", err)
	}
	return pageGroups(groups, in.Limit, in.NextToken), nil
}

// groupMember resolves the user and group of a membership change.
func (s *Service) groupMember(ctx context.Context, in AdminGroupMembershipInput) (storage.Pool, storage.User, error) {
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return p, u, err
	}
	if _, err := s.store.GetGroup(ctx, p.ID, in.GroupName); errors.Is(err, storage.ErrNotFound) {
		return p, u, errorf(ErrResourceNotFound, "Group not found.")
	} else if err != nil {
		return p, u, internal("get group", err)
	}
	return p, u, nil
}

// AdminAddUserToGroup adds a user to a group; tokens issued from then on
// carry it in cognito:groups.
func (s *Service) AdminAddUserToGroup(ctx context.Context, in AdminGroupMembershipInput) (Empty, error) {
	p, u, err := s.groupMember(ctx, in)
	if err != nil {
		return Empty{}, err
	}
	if err := s.store.AddUserToGroup(ctx, p.ID, u.Username, in.GroupName); err != nil {
		return Empty{}, internal("add to group", err)
	}
	return Empty{}, nil
}

// AdminRemoveUserFromGroup removes a user from a group.
func (s *Service) AdminRemoveUserFromGroup(ctx context.Context, in AdminGroupMembershipInput) (Empty, error) {
	p, u, err := s.groupMember(ctx, in)
	if err != nil {
		return Empty{}, err
	}
	if err := s.store.RemoveUserFromGroup(ctx, p.ID, u.Username, in.GroupName); err != nil {
		return Empty{}, internal("remove from group", err)
	}
	return Empty{}, nil
}
