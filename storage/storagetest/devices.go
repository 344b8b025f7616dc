package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var deviceTests = []test{
	{"Device/RoundTrip", testDeviceRoundTrip},
	{"Device/CreateErrors", testDeviceCreateErrors},
	{"Device/List", testListDevices},
	{"Device/Update", testUpdateDevice},
	{"Device/Delete", testDeleteDevice},
	{"Device/GoesWithUser", testDeviceGoesWithUser},
}

func deviceRecord(poolID, username, key string) storage.Device {
	return storage.Device{
		PoolID: poolID, Key: key, Username: username, GroupKey: "-group" + username, Name: "Firefox on " + key,
		Remembered: true, Salt: []byte{0x00, 0x9a, 0x01}, Verifier: []byte{0x7f, 0x00, 0xff, 0x10},
		LastIP: "192.0.2.7", CreatedAt: base, UpdatedAt: base.Add(time.Minute), LastAuthenticatedAt: base.Add(time.Hour),
	}
}

func testDeviceRoundTrip(t *testing.T, s storage.Storage) {
	seed(t, s)
	zoned := deviceRecord("pool-1", "alice", "us-east-1_zoned")
	zoned.CreatedAt, zoned.UpdatedAt = zoned.CreatedAt.In(elsewhere), zoned.UpdatedAt.In(elsewhere)
	for _, d := range []storage.Device{
		deviceRecord("pool-1", "alice", "us-east-1_full"),
		// A device not remembered, never authenticated again, no address.
		{PoolID: "pool-1", Key: "us-east-1_minimal", Username: "alice", GroupKey: "-g", Salt: []byte{1}, Verifier: []byte{2}, CreatedAt: base, UpdatedAt: base},
		zoned,
	} {
		t.Run(d.Key, func(t *testing.T) {
			must(t, s.CreateDevice(t.Context(), d))
			got, err := s.GetDevice(t.Context(), d.PoolID, d.Key)
			must(t, err)
			check(t, "GetDevice", got, d)
		})
	}
	_, err := s.GetDevice(t.Context(), "pool-2", "us-east-1_full")
	wantErr(t, "GetDevice in another pool", err, storage.ErrNotFound)
}

func testDeviceCreateErrors(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	must(t, s.CreateUser(ctx, userRecord("pool-2", "alice")))
	d := deviceRecord("pool-1", "alice", "us-east-1_a")
	must(t, s.CreateDevice(ctx, d))
	wantErr(t, "same key again", s.CreateDevice(ctx, d), storage.ErrAlreadyExists)
	must(t, s.CreateUser(ctx, userRecord("pool-1", "bob")))
	wantErr(t, "same key for another user", s.CreateDevice(ctx, deviceRecord("pool-1", "bob", "us-east-1_a")), storage.ErrAlreadyExists)
	// Keys are per pool.
	must(t, s.CreateDevice(ctx, deviceRecord("pool-2", "alice", "us-east-1_a")))
	wantErr(t, "missing user", s.CreateDevice(ctx, deviceRecord("pool-1", "nobody", "us-east-1_b")), storage.ErrNotFound)
	got, err := s.GetDevice(ctx, "pool-1", "us-east-1_a")
	must(t, err)
	check(t, "device after refused creates", got, d)
}

func testListDevices(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	must(t, s.CreateUser(ctx, userRecord("pool-1", "bob")))
	var want []storage.Device
	for i := range 5 {
		d := deviceRecord("pool-1", "alice", fmt.Sprintf("us-east-1_%d", 4-i))
		must(t, s.CreateDevice(ctx, d))
		want = append([]storage.Device{d}, want...)
		must(t, s.CreateDevice(ctx, deviceRecord("pool-1", "bob", fmt.Sprintf("us-east-1_b%d", i))))
	}
	all, err := s.ListDevices(ctx, "pool-1", "alice", "", 0)
	must(t, err)
	check(t, "ListDevices all", all, want)
	var paged []storage.Device
	for after := ""; ; {
		page, err := s.ListDevices(ctx, "pool-1", "alice", after, 2)
		must(t, err)
		if len(page) > 2 {
			t.Fatalf("page of %d devices, limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].Key
	}
	check(t, "ListDevices paged", paged, want)
	none, err := s.ListDevices(ctx, "pool-2", "alice", "", 0)
	must(t, err)
	check(t, "ListDevices of a user without devices", len(none), 0)
}

func testUpdateDevice(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	d := deviceRecord("pool-1", "alice", "us-east-1_a")
	must(t, s.CreateDevice(ctx, d))
	want := d
	want.Remembered, want.Name, want.LastIP = false, "renamed", "2001:db8::1"
	want.UpdatedAt, want.LastAuthenticatedAt = base.Add(2*time.Hour), base.Add(3*time.Hour)
	want.Salt, want.Verifier = []byte{9}, []byte{8, 7}
	must(t, s.UpdateDevice(ctx, "pool-1", "us-east-1_a", func(storage.Device) (storage.Device, error) { return want, nil }))
	got, err := s.GetDevice(ctx, "pool-1", "us-east-1_a")
	must(t, err)
	check(t, "after update", got, want)

	wantErr(t, "updater error", s.UpdateDevice(ctx, "pool-1", "us-east-1_a", func(d storage.Device) (storage.Device, error) {
		d.Name = "not stored"
		return d, errUpdater
	}), errUpdater)
	for name, move := range map[string]func(*storage.Device){
		"key":  func(d *storage.Device) { d.Key = "us-east-1_b" },
		"pool": func(d *storage.Device) { d.PoolID = "pool-2" },
		"user": func(d *storage.Device) { d.Username = "bob" },
	} {
		err := s.UpdateDevice(ctx, "pool-1", "us-east-1_a", func(d storage.Device) (storage.Device, error) {
			move(&d)
			return d, nil
		})
		if err == nil {
			t.Errorf("updater that changes the %s succeeded", name)
		}
	}
	got, err = s.GetDevice(ctx, "pool-1", "us-east-1_a")
	must(t, err)
	check(t, "after refused updates", got, want)
	wantErr(t, "update unknown", s.UpdateDevice(ctx, "pool-1", "us-east-1_x", func(d storage.Device) (storage.Device, error) { return d, nil }), storage.ErrNotFound)
}

func testDeleteDevice(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	keep := deviceRecord("pool-1", "alice", "us-east-1_keep")
	must(t, s.CreateDevice(ctx, deviceRecord("pool-1", "alice", "us-east-1_a")))
	must(t, s.CreateDevice(ctx, keep))
	must(t, s.DeleteDevice(ctx, "pool-1", "us-east-1_a"))
	_, err := s.GetDevice(ctx, "pool-1", "us-east-1_a")
	wantErr(t, "GetDevice after delete", err, storage.ErrNotFound)
	wantErr(t, "delete again", s.DeleteDevice(ctx, "pool-1", "us-east-1_a"), storage.ErrNotFound)
	got, err := s.ListDevices(ctx, "pool-1", "alice", "", 0)
	must(t, err)
	check(t, "devices left", got, []storage.Device{keep})
}

// testDeviceGoesWithUser checks that deleting a user deletes its devices
// and only its, and that garbage collection, which knows nothing of
// devices, leaves them alone however old they are.
func testDeviceGoesWithUser(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	must(t, s.CreateUser(ctx, userRecord("pool-1", "bob")))
	must(t, s.CreateDevice(ctx, deviceRecord("pool-1", "alice", "us-east-1_a")))
	bobs := deviceRecord("pool-1", "bob", "us-east-1_b")
	must(t, s.CreateDevice(ctx, bobs))
	_, err := s.GarbageCollect(ctx, base.Add(10*365*24*time.Hour))
	must(t, err)
	_, err = s.GetDevice(ctx, "pool-1", "us-east-1_a")
	must(t, err)
	must(t, s.DeleteUser(ctx, "pool-1", "alice"))
	_, err = s.GetDevice(ctx, "pool-1", "us-east-1_a")
	wantErr(t, "device of a deleted user", err, storage.ErrNotFound)
	// A new user of the same name starts without devices.
	must(t, s.CreateUser(ctx, userRecord("pool-1", "alice")))
	got, err := s.ListDevices(ctx, "pool-1", "alice", "", 0)
	must(t, err)
	check(t, "devices of the new alice", len(got), 0)
	left, err := s.GetDevice(ctx, "pool-1", "us-east-1_b")
	must(t, err)
	check(t, "bob's device", left, bobs)
}
