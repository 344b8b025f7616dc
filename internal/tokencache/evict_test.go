package tokencache

import "testing"

func TestSoonest(t *testing.T) {
	deadline := func(v int64) int64 { return v }
	// With a sample as large as the map, the earliest deadline goes.
	m := map[string]int64{"a": 30, "b": 10, "c": 20}
	Soonest(m, len(m), deadline)
	if _, ok := m["b"]; ok || len(m) != 2 {
		t.Fatalf("after eviction: %v", m)
	}
	// With a sample of one, exactly one entry goes.
	Soonest(m, 1, deadline)
	if len(m) != 1 {
		t.Fatalf("after a sample of one: %v", m)
	}
	empty := map[int]int64{}
	Soonest(empty, 8, deadline)
	if len(empty) != 0 {
		t.Fatal("an empty map changed")
	}
}
