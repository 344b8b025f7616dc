package transfer

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// kind says how to copy one kind of record T.
type kind[T any] struct {
	// key names a record in differences.
	key func(T) string
	// find looks item's key up in the target: found is false when the
	// target has no such record, diff names what differs when it has.
	find func(ctx context.Context, to storage.Storage, item T) (found bool, diff string, err error)
	// create writes item to the target.
	create func(ctx context.Context, to storage.Storage, item T) error
}

// What became of one source record.
type state int

const (
	copied state = iota
	present
	differs
)

type outcome struct {
	state       state
	key, detail string
}

// rejectedError is a create the target refused for its data: the key or a
// unique field is taken by another record (ErrAlreadyExists), or a parent
// is missing because it was itself reported (ErrNotFound).
type rejectedError struct{ err error }

func (e *rejectedError) Error() string { return e.err.Error() }
func (e *rejectedError) Unwrap() error { return e.err }

// copyAll copies items in batches.
func copyAll[T any](ctx context.Context, c *copier, k kind[T], items []T) error {
	for len(items) > 0 {
		n := min(len(items), c.opts.BatchSize)
		if err := apply(ctx, c, k, items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// batcher collects streamed records into batches.
type batcher[T any] struct {
	c     *copier
	k     kind[T]
	items []T
}

func newBatcher[T any](c *copier, k kind[T]) *batcher[T] {
	return &batcher[T]{c: c, k: k, items: make([]T, 0, c.opts.BatchSize)}
}

// add queues item, copying the batch once it is full.
func (b *batcher[T]) add(ctx context.Context, item T) error {
	b.items = append(b.items, item)
	if len(b.items) < b.c.opts.BatchSize {
		return nil
	}
	return b.flush(ctx)
}

// flush copies what is queued.
func (b *batcher[T]) flush(ctx context.Context) error {
	if len(b.items) == 0 {
		return nil
	}
	err := apply(ctx, b.c, b.k, b.items)
	b.items = b.items[:0]
	return err
}

// apply copies one batch and counts what became of each record.
func apply[T any](ctx context.Context, c *copier, k kind[T], items []T) error {
	outs, err := runBatch(ctx, c, k, items)
	if err != nil {
		return err
	}
	c.cur.Source += int64(len(items))
	for _, o := range outs {
		switch o.state {
		case copied:
			c.cur.Copied++
		case present:
			c.cur.Present++
		case differs:
			c.differ(o.key, o.detail)
		}
	}
	return nil
}

// runBatch copies items in one transaction. When the target rejects one
// of them, that transaction is undone and the records are copied one by
// one, so that only the rejected one is reported.
func runBatch[T any](ctx context.Context, c *copier, k kind[T], items []T) ([]outcome, error) {
	outs, err := runTx(ctx, c, k, items)
	var rejected *rejectedError
	if !errors.As(err, &rejected) {
		return outs, err
	}
	if len(items) == 1 {
		return []outcome{{state: differs, key: k.key(items[0]), detail: "the target refused it: " + rejected.Error()}}, nil
	}
	outs = make([]outcome, 0, len(items))
	for i := range items {
		o, err := runBatch(ctx, c, k, items[i:i+1])
		if err != nil {
			return nil, err
		}
		outs = append(outs, o...)
	}
	return outs, nil
}

// runTx compares items with the target and creates the missing ones, in
// one target transaction (none on a dry run, which creates nothing).
func runTx[T any](ctx context.Context, c *copier, k kind[T], items []T) ([]outcome, error) {
	var outs []outcome
	body := func(ctx context.Context, to storage.Storage) error {
		outs = outs[:0] // the transaction may be run again
		for _, item := range items {
			found, diff, err := k.find(ctx, to, item)
			switch {
			case err != nil:
				return err
			case found && diff == "":
				outs = append(outs, outcome{state: present})
			case found:
				outs = append(outs, outcome{state: differs, key: k.key(item), detail: diff})
			case c.opts.DryRun:
				outs = append(outs, outcome{state: copied})
			default:
				err := k.create(ctx, to, item)
				if errors.Is(err, storage.ErrAlreadyExists) || errors.Is(err, storage.ErrNotFound) {
					return &rejectedError{err}
				}
				if err != nil {
					return err
				}
				outs = append(outs, outcome{state: copied})
			}
		}
		return nil
	}
	if c.opts.DryRun {
		return outs, body(ctx, c.to)
	}
	return outs, c.to.Atomic(ctx, body)
}

// lookup turns a target Get's result into find's: ErrNotFound is "not
// found", anything else is compared with want.
func lookup[T any](want, got T, err error) (bool, string, error) {
	if errors.Is(err, storage.ErrNotFound) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	return true, diffFields(want, got), nil
}

var timeType = reflect.TypeFor[time.Time]()

// diffFields names the fields in which got differs from want, or returns
// "" when they are equal. Times compare as instants, and nil and empty
// maps and slices are equal, as storage backends may return either. It
// names fields only: values may be secret.
func diffFields[T any](want, got T) string {
	var names []string
	diffValue(reflect.ValueOf(want), reflect.ValueOf(got), "", &names)
	if len(names) == 0 {
		return ""
	}
	return "the target's record differs in " + strings.Join(names, ", ")
}

func diffValue(a, b reflect.Value, path string, names *[]string) {
	switch {
	case a.Type() == timeType:
		if !a.Interface().(time.Time).Equal(b.Interface().(time.Time)) {
			*names = append(*names, path)
		}
	case a.Kind() == reflect.Struct:
		for i := range a.NumField() {
			name := a.Type().Field(i).Name
			if path != "" {
				name = path + "." + name
			}
			diffValue(a.Field(i), b.Field(i), name, names)
		}
	case (a.Kind() == reflect.Map || a.Kind() == reflect.Slice) && a.Len() == 0 && b.Len() == 0:
	case !reflect.DeepEqual(a.Interface(), b.Interface()):
		*names = append(*names, path)
	}
}

// member is a group membership.
type member struct{ poolID, username, group string }

func (m member) String() string { return fmt.Sprintf("%s/%s in %s", m.poolID, m.username, m.group) }
