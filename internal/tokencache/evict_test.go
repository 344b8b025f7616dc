package tokencache

import "testing"

func TestEvictSoonest(t *testing.T) {
	s := &shard[string]{m: map[uint64]entry[string]{}}
	for k, d := range map[uint64]int64{1: 30, 2: 10, 3: 20} {
		s.m[k] = entry[string]{deadline: d}
	}
	// With a sample as large as the map, the earliest deadline goes.
	s.evictSoonest()
	if _, ok := s.m[2]; ok || len(s.m) != 2 {
		t.Fatalf("after eviction: %v", s.m)
	}
	// With more entries than the sample, exactly one goes.
	for k := range uint64(2 * evictSample) {
		s.m[100+k] = entry[string]{deadline: 100}
	}
	before := len(s.m)
	s.evictSoonest()
	if len(s.m) != before-1 {
		t.Fatalf("%d entries after evicting one of %d", len(s.m), before)
	}
	empty := &shard[string]{}
	empty.evictSoonest()
	if empty.m != nil {
		t.Fatal("an empty shard changed")
	}
}
