// Package storagetest is the conformance suite every storage.Storage
// backend runs. A backend's test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Storage {
//			s, err := mybackend.Open(...) // a fresh, empty store
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// # Comparison rules
//
// Records must round-trip field for field, with these allowances:
//
//   - Times are compared at [Precision] (microseconds, what PostgreSQL
//     keeps), must come back in UTC, and the zero time.Time must come back
//     as the zero time.
//   - Nil and empty maps and slices are interchangeable.
//   - Message.ID is assigned by the store.
//
// # Behaviour the interface leaves implicit
//
// The suite also pins down what storage.Storage only implies:
//
//   - Creating a record whose parent is missing (a pool, user, group or
//     refresh family) fails with storage.ErrNotFound.
//   - Email aliases are stored lower-cased; the empty alias matches no one.
//   - Deleting a missing user, code or login session is
//     storage.ErrNotFound.
//   - DeleteUser also removes the user's authorization codes and login
//     sessions.
//   - Revoking families counts as "live" the ones not yet revoked, and
//     leaves the RevokedAt of the others alone.
//   - GarbageCollect deletes records whose ExpiresAt is before now (a
//     zero ExpiresAt never expires); the tokens of an expired family go
//     (and are counted) with it.
//   - UpdateAuthCode is a compare-and-swap: of concurrent updaters that
//     each redeem a code only if it is unredeemed, exactly one succeeds.
//   - An error returned by fn, from any Atomic, nested or not, undoes
//     every write fn made.
package storagetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// Precision is the time resolution backends must keep.
const Precision = time.Microsecond

// test is one entry of the suite.
type test struct {
	name string
	run  func(t *testing.T, s storage.Storage)
}

// Run runs the suite. open must return a fresh, empty store and arrange
// for it to be closed when t ends; it is called once per subtest, from
// parallel subtests.
func Run(t *testing.T, open func(t *testing.T) storage.Storage) {
	t.Helper()
	tests := slices.Concat(poolTests, errorTests, userTests, groupTests, codeTests,
		refreshTests, oauthTests, keyTests, apiKeyTests, txTests, messageTests, attemptsTests,
		enumeratorTests, claimTests, rateLimitTests, idpTests,
		webAuthnTests, deviceTests, importTests)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

// base is the suite's reference time. Its nanoseconds check that stores
// keep Precision and no more is expected.
var base = time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.UTC)

// elsewhere is a non-UTC zone: instants given in it must come back equal,
// in UTC.
var elsewhere = time.FixedZone("UTC+5:30", 5*3600+1800)

var errUpdater = errors.New("storagetest: updater failed on purpose")

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails t unless err matches target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

// check fails t unless got equals want under the comparison rules of the
// package doc.
func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	var notUTC []string
	g := canonical(got, &notUTC)
	w := canonical(want, nil)
	for _, p := range notUTC {
		t.Errorf("%s: %s is not in UTC", what, p)
	}
	for _, d := range diff(reflect.ValueOf(g), reflect.ValueOf(w), what) {
		t.Error(d)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// canonical returns a copy of v with times truncated to Precision and in
// UTC, and empty maps and slices nil. When notUTC is not nil it collects
// the paths of non-zero times that were not in UTC.
func canonical[T any](v T, notUTC *[]string) T {
	c := v
	walk(reflect.ValueOf(&c).Elem(), fmt.Sprintf("%T", c), notUTC)
	return c
}

func walk(v reflect.Value, path string, notUTC *[]string) {
	switch {
	case v.Type() == timeType:
		tm := v.Interface().(time.Time)
		if notUTC != nil && !tm.IsZero() && tm.Location() != time.UTC {
			*notUTC = append(*notUTC, path)
		}
		v.Set(reflect.ValueOf(tm.Truncate(Precision).UTC()))
	case v.Kind() == reflect.Interface && !v.IsNil():
		cp := reflect.New(v.Elem().Type()).Elem()
		cp.Set(v.Elem())
		walk(cp, path, notUTC)
		v.Set(cp)
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			walk(v.Field(i), path+"."+v.Type().Field(i).Name, notUTC)
		}
	case v.Kind() == reflect.Map && v.Len() == 0:
		v.SetZero()
	case v.Kind() == reflect.Slice && v.Len() == 0:
		v.SetZero()
	case v.Kind() == reflect.Slice:
		// Copy before rewriting elements: the caller's backing array is
		// not ours to change.
		cp := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(cp, v)
		v.Set(cp)
		for i := range cp.Len() {
			walk(cp.Index(i), fmt.Sprintf("%s[%d]", path, i), notUTC)
		}
	}
}

// diff describes where got and want differ, by field path.
func diff(got, want reflect.Value, path string) []string {
	switch {
	case got.Type() == timeType:
		if g, w := got.Interface().(time.Time), want.Interface().(time.Time); !g.Equal(w) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, g, w)}
		}
		return nil
	case got.Kind() == reflect.Struct:
		var out []string
		for i := range got.NumField() {
			out = append(out, diff(got.Field(i), want.Field(i), path+"."+got.Type().Field(i).Name)...)
		}
		return out
	case got.Kind() == reflect.Slice && got.Type().Elem().Kind() == reflect.Struct:
		if got.Len() != want.Len() {
			return []string{fmt.Sprintf("%s: got %d elements, want %d:\n got %+v\nwant %+v",
				path, got.Len(), want.Len(), got.Interface(), want.Interface())}
		}
		var out []string
		for i := range got.Len() {
			out = append(out, diff(got.Index(i), want.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case got.Kind() == reflect.Interface && !got.IsNil() && !want.IsNil() && got.Elem().Type() == want.Elem().Type():
		return diff(got.Elem(), want.Elem(), path)
	case got.Kind() == reflect.Pointer && !got.IsNil() && !want.IsNil():
		return diff(got.Elem(), want.Elem(), path)
	case !reflect.DeepEqual(got.Interface(), want.Interface()):
		return []string{fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want))}
	}
	return nil
}

func show(v reflect.Value) string {
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		return fmt.Sprintf("&%#v", v.Elem().Interface())
	}
	return fmt.Sprintf("%#v", v.Interface())
}
