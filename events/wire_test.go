package events

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzAppendString: the hand-written JSON string encoder of the data
// frames decodes, with encoding/json, to the input (invalid UTF-8
// replaced, as encoding/json does).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `{"a":"b"}`, "tab\there\nnl\r\x00\x1f", `back\slash "quote"`, "<html>&", "\u2028\u2029", "😀 ünï", "\xff\xfe bad", "\xe2\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encoded as %s: %v", s, b, err)
		}
		var want strings.Builder
		for _, r := range s { // ranging a string yields U+FFFD per invalid byte
			want.WriteRune(r)
		}
		if got != want.String() {
			t.Fatalf("%q round-tripped to %q", s, got)
		}
	})
}

func TestDataFrame(t *testing.T) {
	ev := `{"text":"line\nbreak \"quoted\" ü 😀 \u2028"}`
	frame := append(dataHead(`id-"1"`), dataTail(ev)...)
	var got struct {
		Type, ID, Event string
	}
	if err := json.Unmarshal(frame, &got); err != nil {
		t.Fatalf("%s: %v", frame, err)
	}
	if got.Type != "data" || got.ID != `id-"1"` || got.Event != ev {
		t.Fatalf("decoded %+v from %s", got, frame)
	}
}
