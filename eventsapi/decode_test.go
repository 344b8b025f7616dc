package eventsapi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cognate-auth/cognate/events"
)

// TestDecodeFast: the messages Amplify and other clients send take the
// fast path and decode as encoding/json decodes them.
func TestDecodeFast(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     message
	}{{
		name: "connection_init",
		in:   `{"type":"connection_init"}`,
		want: message{Type: "connection_init"},
	}, {
		name: "subscribe",
		in: `{"type":"subscribe","id":"0b5c7a7e-3f1d-4d0e-9b8a-6f3c2a1d9e77","channel":"/default/*",` +
			`"authorization":{"x-api-key":"da2-abcdefghijklmnopqrstuvwxyz","host":"127.0.0.1:9229"}}`,
		want: message{Type: "subscribe", ID: "0b5c7a7e-3f1d-4d0e-9b8a-6f3c2a1d9e77", Channel: "/default/*",
			Authorization: events.Headers{"x-api-key": "da2-abcdefghijklmnopqrstuvwxyz", "host": "127.0.0.1:9229"}},
	}, {
		name: "publish with escaped JSON and unicode",
		in: `{"type":"publish","id":"p1","channel":"/default/room",` +
			`"events":["{\"msg\":\"h\u00e9llo \ud83d\ude00 wörld\",\"n\":1}","\"two\"","[1,\t2]\n\/\\\b\f\r"],` +
			`"authorization":{"Authorization":"Bearer a.b.c","X-Amz-User-Agent":"aws-amplify/6"}}`,
		want: message{Type: "publish", ID: "p1", Channel: "/default/room",
			Events:        []string{`{"msg":"héllo 😀 wörld","n":1}`, `"two"`, "[1,\t2]\n/\\\b\f\r"},
			Authorization: events.Headers{"authorization": "Bearer a.b.c", "x-amz-user-agent": "aws-amplify/6"}},
	}, {
		name: "unsubscribe",
		in:   `{"type":"unsubscribe","id":"s1"}`,
		want: message{Type: "unsubscribe", ID: "s1"},
	}, {
		name: "legacy payload",
		in: `{"type":"publish","id":"p2","channel":"/default/room","events":["{}"],"authorization":{"host":"h"},` +
			`"payload":{"channel":"/default/room","events":["x", 1, -2.5e+3, 0, true, false, null, {}, []],` +
			`"extensions":{"authorization":{}},"s":"\u00e9\ud800\\"}}`,
		want: message{Type: "publish", ID: "p2", Channel: "/default/room", Events: []string{"{}"},
			Authorization: events.Headers{"host": "h"}},
	}, {
		name: "white space",
		in:   " \r\n\t{ \"type\" : \"publish\" ,\n\"events\" : [ \"1\" , \"2\" ] , \"authorization\" : { } }\n",
		want: message{Type: "publish", Events: []string{"1", "2"}, Authorization: events.Headers{}},
	}, {
		name: "empty",
		in:   `{"events":[],"id":"","extra":"x"}`,
		want: message{Events: []string{}},
	}, {
		name: "many events and headers",
		in:   `{"events":["a","b","c","d","e"],"authorization":{"a":"1","b":"2","c":"3","d":"4","e":"5"}}`,
		want: message{Events: []string{"a", "b", "c", "d", "e"},
			Authorization: events.Headers{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}},
	}, {
		name: "NUL and U+FFFD escaped",
		in:   `{"id":"\u0000\ufffd\uFFFD"}`,
		want: message{ID: "\x00\uFFFD\uFFFD"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := decodeFast([]byte(tc.in))
			if !ok {
				t.Fatalf("%s: the fast path gave up", tc.in)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%s:\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
			slow, err := decodeSlow([]byte(tc.in))
			if err != nil || !reflect.DeepEqual(slow, tc.want) {
				t.Fatalf("%s: encoding/json decodes %#v, %v", tc.in, slow, err)
			}
		})
	}
}

// TestDecodeFallback: the fast path gives up on what it cannot decode as
// encoding/json does, and decodeMessage then answers as encoding/json.
func TestDecodeFallback(t *testing.T) {
	invalid := events.BadRequest("The message is not valid JSON.")
	for _, tc := range []struct {
		name, in string
		want     message
		err      error
	}{
		{"upper-case name", `{"TYPE":"publish","Id":"1"}`, message{Type: "publish", ID: "1"}, nil},
		{"long s folds to s", `{"eventſ":["a"]}`, message{Events: []string{"a"}}, nil},
		{"escaped name", `{"typ\u0065":"publish"}`, message{Type: "publish"}, nil},
		{"duplicate member", `{"id":"1","id":"2"}`, message{ID: "2"}, nil},
		// encoding/json decodes the second object into the first one's map.
		{"duplicate authorization", `{"authorization":{"a":"1"},"authorization":{"b":"2"}}`,
			message{Authorization: events.Headers{"a": "1", "b": "2"}}, nil},
		{"duplicate header", `{"authorization":{"a":"1","a":"2"}}`,
			message{Authorization: events.Headers{"a": "2"}}, nil},
		{"null string", `{"type":null,"id":"1"}`, message{ID: "1"}, nil},
		{"null events", `{"events":null}`, message{}, nil},
		{"null event", `{"events":["a",null]}`, message{Events: []string{"a", ""}}, nil},
		{"null authorization", `{"authorization":null}`, message{}, nil},
		{"null header", `{"authorization":{"a":null}}`, message{Authorization: events.Headers{"a": ""}}, nil},
		{"non-string headers", `{"authorization":{"a":1,"b":{},"c":"x"}}`,
			message{Authorization: events.Headers{"c": "x"}}, nil},
		{"invalid UTF-8", "{\"id\":\"a\xffb\"}", message{ID: "a\uFFFDb"}, nil},
		{"lone surrogate", `{"id":"\ud800x"}`, message{ID: "\uFFFDx"}, nil},
		{"high surrogate then not low", `{"id":"\ud800\u0041"}`, message{ID: "\uFFFDA"}, nil},
		{"reversed surrogates", `{"id":"\udc00\ud800"}`, message{ID: "\uFFFD\uFFFD"}, nil},
		{"deep unknown value", `{"id":"1","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
			message{ID: "1"}, nil},
		{"more events than a publish carries", `{"events":["1","2","3","4","5","6"]}`,
			message{Events: []string{"1", "2", "3", "4", "5", "6"}}, nil},
		{"many headers", manyHeaders, message{Authorization: manyHeadersWant}, nil},
		{"non-object", `null`, message{}, nil},
		{"array", `[]`, message{}, events.BadRequest("A message is a JSON object.")},
		{"wrong type", `{"type":"publish","id":"1","channel":2}`, message{Type: "publish", ID: "1"},
			events.BadRequest("Field %q has the wrong type.", "channel")},
		{"events not strings", `{"type":"publish","events":[1]}`, message{Type: "publish", Events: []string{""}}, errNotStrings},
		{"control character", "{\"id\":\"a\nb\"}", message{}, invalid},
		{"bad escape", `{"id":"\x"}`, message{}, invalid},
		{"bad number", `{"x":01}`, message{}, invalid},
		{"bad literal", `{"x":nul}`, message{}, invalid},
		{"trailing comma", `{"id":"1",}`, message{}, invalid},
		{"trailing data", `{"id":"1"}x`, message{}, invalid},
		{"truncated", `{"id":"1"`, message{}, invalid},
		{"empty", ``, message{}, invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m, ok := decodeFast([]byte(tc.in)); ok {
				t.Fatalf("%q: the fast path decoded %#v", tc.in, m)
			}
			got, err := decodeMessage([]byte(tc.in))
			if !reflect.DeepEqual(got, tc.want) || !sameError(err, tc.err) {
				t.Fatalf("%q:\n got %#v, %v\nwant %#v, %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

// manyHeaders has more authorization members than the fast path takes.
var manyHeaders, manyHeadersWant = func() (string, events.Headers) {
	h := events.Headers{}
	for i := range maxFastHeaders + 1 {
		h[fmt.Sprintf("h%d", i)] = "v"
	}
	b, _ := json.Marshal(map[string]any{"authorization": h})
	return string(b), h
}()

func sameError(got, want error) bool {
	if got == nil || want == nil {
		return got == want
	}
	return errors.Is(got, events.ErrBadRequest) && got.Error() == want.Error()
}

// TestPlainASCII: the eight-byte test agrees with the byte-wise one for
// every byte at every place, and next to every other byte.
func TestPlainASCII(t *testing.T) {
	for c := range 256 {
		for other := range 256 {
			for at := range 8 {
				w := bytes.Repeat([]byte{byte(other)}, 8)
				w[at] = byte(c)
				want := c < utf8.RuneSelf && plain[c] && other < utf8.RuneSelf && plain[other]
				if got := plainASCII(binary.LittleEndian.Uint64(w)); got != want {
					t.Fatalf("% x: %v, want %v", w, got, want)
				}
			}
		}
	}
}

// benchPublish is a typical publish: a UUID id, a 100-byte event of
// escaped JSON and an API key.
func benchPublish(b *testing.B) []byte {
	event := `{"seq":42,"from":"bench-client","text":"` + strings.Repeat("x", 58) + `"}`
	if len(event) != 100 {
		b.Fatalf("event is %d bytes", len(event))
	}
	data, err := json.Marshal(map[string]any{
		"type":    "publish",
		"id":      "6c0d5b0e-8a4f-4f4e-b1a7-2f9d3c6e5a10",
		"channel": "/default/bench/ch-1",
		"events":  []string{event},
		"authorization": map[string]string{
			"x-api-key": "da2-abcdefghijklmnopqrstuvwxyz",
			"host":      "127.0.0.1:9229",
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkDecodeMessage(b *testing.B) {
	data := benchPublish(b)
	if _, ok := decodeFast(data); !ok {
		b.Fatalf("%s: the fast path gave up", data)
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte) (message, error)
	}{{"fast", decodeMessage}, {"slow", decodeSlow}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := bc.decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
