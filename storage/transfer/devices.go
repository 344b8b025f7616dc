package transfer

import (
	"context"

	"github.com/cognate-auth/cognate/storage"
)

var deviceKind = kind[storage.Device]{
	key: func(d storage.Device) string { return d.PoolID + "/" + d.Key },
	find: func(ctx context.Context, to storage.Storage, d storage.Device) (bool, string, error) {
		got, err := to.GetDevice(ctx, d.PoolID, d.Key)
		return lookup(d, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, d storage.Device) error {
		return to.CreateDevice(ctx, d)
	},
}

// copyDevices copies each user's confirmed devices, a page of users at a
// time.
func (c *copier) copyDevices(ctx context.Context) error {
	return c.eachPool(ctx, func(poolID string) error {
		return eachUserPage(ctx, c.from, poolID, c.opts.BatchSize, func(users []storage.User) error {
			for _, u := range users {
				devices, err := c.from.ListDevices(ctx, poolID, u.Username, "", 0)
				if err != nil {
					return err
				}
				if err := copyAll(ctx, c, deviceKind, devices); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
