package eventsapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/events"
)

// FuzzDecodeMessage: any input decodes or fails with a BadRequestException,
// never panics; decoded events are the strings of the input and header
// names are lower case.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"connection_init"}`,
		`{"type":"subscribe","id":"1","channel":"/default/*","authorization":{"x-api-key":"k","Host":"h"}}`,
		`{"type":"publish","id":"2","channel":"/d/a","events":["{\"a\":1}","\"s\""],"authorization":{"Authorization":"jwt","x-amz-user-agent":"ua"},"payload":{"x":[1]}}`,
		`{"type":"publish","events":[1,{"a":2}]}`,
		`{"type":7}`, `[]`, `null`, `"x"`, `{"id":{}}`, `{"authorization":{"a":1,"b":null}}`, "\x00", `{"events":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMessage(data)
		if err != nil {
			if !errors.Is(err, events.ErrBadRequest) {
				t.Fatalf("%q: error %v is not a bad request", data, err)
			}
			return
		}
		var raw struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal(data, &raw); err != nil || len(raw.Events) != len(m.Events) {
			t.Fatalf("%q: decoded events %q, raw %q, %v", data, m.Events, raw.Events, err)
		}
		for i, r := range raw.Events {
			var s string
			if json.Unmarshal(r, &s) != nil || s != m.Events[i] {
				t.Fatalf("%q: event %d is %q, want %s", data, i, m.Events[i], r)
			}
		}
		for k := range m.Authorization {
			if k != strings.ToLower(k) {
				t.Fatalf("%q: header %q not lower case", data, k)
			}
		}
	})
}

// FuzzHeaderProtocol: the header- subprotocol decodes or fails with a
// BadRequestException; whatever JSON object is encoded comes back.
func FuzzHeaderProtocol(f *testing.F) {
	for _, s := range []string{`{"x-api-key":"da2-x","host":"h"}`, `{"Authorization":"a.b.c"}`, `{}`, `[]`, `nope`, ``} {
		f.Add(base64.RawURLEncoding.EncodeToString([]byte(s)))
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)))
	}
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, enc string) {
		h, err := decodeHeaderProtocol(enc)
		if err != nil {
			if !errors.Is(err, events.ErrBadRequest) {
				t.Fatalf("%q: error %v is not a bad request", enc, err)
			}
			return
		}
		again, err := decodeHeaderProtocol(base64.RawURLEncoding.EncodeToString(mustJSON(t, h)))
		if err != nil || len(again) != len(h) {
			t.Fatalf("%q: %v round trip %v, %v", enc, h, again, err)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
