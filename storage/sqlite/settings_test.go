package sqlite

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/cognate-auth/cognate/storage"
)

// TestCloneSettings checks that the settings clones share nothing with
// what they copy, so that a field added to the settings without a line in
// its clone function fails here.
func TestCloneSettings(t *testing.T) {
	t.Run("pool", func(t *testing.T) { checkClone(t, clonePoolSettings) })
	t.Run("client", func(t *testing.T) { checkClone(t, cloneClientSettings) })
}

func checkClone[T any](t *testing.T, clone func(T) T) {
	var orig, want T
	fill(t, reflect.ValueOf(&orig).Elem())
	fill(t, reflect.ValueOf(&want).Elem())
	c := clone(orig)
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("clone = %+v, want %+v", c, want)
	}
	mutate(t, reflect.ValueOf(&c).Elem())
	if !reflect.DeepEqual(orig, want) {
		t.Errorf("changing the clone changed the original: %+v, want %+v", orig, want)
	}
}

// fill sets every field reachable from v to a non-zero value, with two
// elements in each slice and one entry in each map.
func fill(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range v.Len() {
			fill(t, v.Index(i))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k)
		fill(t, e)
		v.SetMapIndex(k, e)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem())
	default:
		t.Fatalf("fill: %s fields are not handled", v.Type())
	}
}

// mutate changes, in place, every value reachable from v.
func mutate(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(v.Float() + 1)
	case reflect.Struct:
		for i := range v.NumField() {
			mutate(t, v.Field(i))
		}
	case reflect.Slice:
		for i := range v.Len() {
			mutate(t, v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			mutate(t, e)
			v.SetMapIndex(k, e)
		}
	case reflect.Pointer:
		mutate(t, v.Elem())
	default:
		t.Fatalf("mutate: %s fields are not handled", v.Type())
	}
}

// TestSettingsCacheMatchesJSON checks that decoding through the caches,
// once stored and once from the cache, gives what json.Unmarshal gives,
// empty and absent lists included.
func TestSettingsCacheMatchesJSON(t *testing.T) {
	pools := []string{
		`{"password_policy":{"minimum_length":8}}`,
		`{"username_attributes":["email"],"auto_verified_attributes":[],"password_policy":{"minimum_length":8,"require_numbers":true},` +
			`"schema":[{"name":"tenant","attribute_data_type":"String","mutable":true}],"domain":"d"}`,
		`{"unknown":1}`,
		`null`,
	}
	for _, text := range pools {
		checkSettingsCache(t, &poolSettings, text)
	}
	clients := []string{
		`{"token_validity_units":{},"enable_token_revocation":true}`,
		`{"explicit_auth_flows":["ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"],"callback_urls":[],` +
			`"token_validity_units":{"access_token":"minutes"},"enable_token_revocation":false,"refresh_token_rotation":true}`,
	}
	for _, text := range clients {
		checkSettingsCache(t, &clientSettings, text)
	}
	// Errors are not cached, and come back as encoding/json's.
	for _, text := range []string{`{`, `{"password_policy":1}`, ``} {
		var got storage.PoolSettings
		err := poolSettings.decode(text, &got)
		wantErr := json.Unmarshal([]byte(text), new(storage.PoolSettings))
		if err == nil || wantErr == nil || err.Error() != wantErr.Error() {
			t.Errorf("decode(%q): err = %v, want %v", text, err, wantErr)
		}
	}
}

func checkSettingsCache[T any](t *testing.T, c *settingsCache[T], text string) {
	t.Helper()
	var want T
	mustDo(t, json.Unmarshal([]byte(text), &want))
	for range 2 {
		var got T
		mustDo(t, c.decode(text, &got))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decode(%s) = %#v, want %#v", text, got, want)
		}
	}
}

// TestSettingsCacheBounded checks that the cache starts over once full.
func TestSettingsCacheBounded(t *testing.T) {
	var c settingsCache[storage.PoolSettings]
	c.clone = clonePoolSettings
	for i := range 3 * maxCachedSettings {
		var p storage.PoolSettings
		b, err := json.Marshal(storage.PoolSettings{PasswordPolicy: storage.PasswordPolicy{MinimumLength: i}})
		mustDo(t, err)
		mustDo(t, c.decode(string(b), &p))
		if p.PasswordPolicy.MinimumLength != i {
			t.Fatalf("decode of minimum length %d = %d", i, p.PasswordPolicy.MinimumLength)
		}
	}
	n := 0
	c.m.Range(func(any, any) bool { n++; return true })
	if n > maxCachedSettings {
		t.Errorf("cache holds %d entries, want at most %d", n, maxCachedSettings)
	}
}
