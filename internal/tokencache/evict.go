package tokencache

// evictSample is how many entries a full shard looks at to choose the one
// to drop.
const evictSample = 8

// evictSoonest drops the entry with the earliest deadline among the first
// evictSample entries of an iteration of the shard's map. Go starts map
// iteration at a random place, so this is a random sample: an expired
// entry goes first whenever the sample holds one, and no insertion order
// can be aimed at. s.mu is held for writing.
func (s *shard[V]) evictSoonest() {
	var (
		victim  uint64
		soonest int64
		n       int
	)
	for k, e := range s.m {
		if n == 0 || e.deadline < soonest {
			victim, soonest = k, e.deadline
		}
		if n++; n == evictSample {
			break
		}
	}
	if n > 0 {
		delete(s.m, victim)
	}
}
