package eventsapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/events"
)

// FuzzDecodeMessage: any input decodes or fails with a BadRequestException,
// never panics; decoded events are the strings of the input and header
// names are lower case. Whatever the fast path decodes, encoding/json
// decodes the same, without error.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"connection_init"}`,
		`{"type":"subscribe","id":"1","channel":"/default/*","authorization":{"x-api-key":"k","Host":"h"}}`,
		`{"type":"publish","id":"2","channel":"/d/a","events":["{\"a\":1}","\"s\""],"authorization":{"Authorization":"jwt","x-amz-user-agent":"ua"},"payload":{"x":[1]}}`,
		`{"type":"publish","events":[1,{"a":2}]}`,
		`{"type":7}`, `[]`, `null`, `"x"`, `{"id":{}}`, `{"authorization":{"a":1,"b":null}}`, "\x00", `{"events":"x"}`,
		// For the fast path: escapes, surrogates, UTF-8, names encoding/json
		// matches by folding case, duplicates, skipped values.
		`{"id":"\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00 \u0000 wörld"}`,
		`{"id":"\ud800"}`, `{"id":"\ud800\u0041"}`, `{"id":"\udc00\ud800"}`, `{"id":"\ud83d\ude0"}`,
		"{\"id\":\"\xff\"}", "{\"id\":\"\xe2\x82\"}", "{\"id\":\"a\tb\"}", "{\"x\":\"\xff\"}",
		`{"TYPE":"x"}`, `{"eventſ":["a"]}`, `{"typ\u0065":"x"}`, `{"Authorization":{}}`, `{"é":1}`,
		`{"id":"1","id":"2"}`, `{"authorization":{"a":"1","A":"2"}}`, `{"authorization":{"a":"1"},"authorization":{}}`,
		`{"type":null}`, `{"events":null}`, `{"events":[null]}`, `{"events":[]}`, `{"authorization":{}}`,
		`{"p":{"a":[1,-0.5e+3,0E1,true,false,null,"s\u12ab",{}],"b":{"c":[]}}}`,
		`{"p":01}`, `{"p":-}`, `{"p":1.}`, `{"p":1e}`, `{"p":tru}`, `{"p":"\x"}`, `{"p":[1,]}`, `{"p":{"a":1,}}`,
		`{"p":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
		` {"id" : "1" } `, `{"id":"1"} x`, `{"id":"1"`, `{"events":["1","2","3","4","5","6"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if fast, ok := decodeFast(data); ok {
			slow, err := decodeSlow(data)
			if err != nil || !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%q: fast path %#v, encoding/json %#v, %v", data, fast, slow, err)
			}
		}
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

// FuzzDecodeFastPath: the fast path and encoding/json agree on messages
// shaped as clients send them, with the fuzzer's bytes inside the strings
// (where the escapes are) and as an unknown member's value.
func FuzzDecodeFastPath(f *testing.F) {
	f.Add("publish", `{\"a\":\"\u00e9\ud83d\ude00\"}`, "X-Api-Key", "da2-k", `{"data":[1,"x",null]}`)
	f.Add("subscribe", `\ud800`, "host", "h\tx", `"\u12"`)
	f.Add("", "\xff", "", "\x00", `-1.5e9`)
	f.Add("0", `\ud800\u0000`, "0", "0", `{}`)
	f.Fuzz(func(t *testing.T, typ, event, name, value, payload string) {
		data := []byte(`{"type":"` + typ + `","id":"6c0d5b0e","channel":"/default/ch","events":["` + event +
			`"],"authorization":{"` + name + `":"` + value + `"},"payload":` + payload + `}`)
		fast, ok := decodeFast(data)
		if !ok {
			return
		}
		slow, err := decodeSlow(data)
		if err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast path %#v, encoding/json %#v, %v", data, fast, slow, err)
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
