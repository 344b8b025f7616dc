// Package tokencache picks what a bounded cache drops when it is full.
package tokencache

// Soonest deletes from m the entry with the earliest deadline among the
// first sample entries of an iteration. Go starts map iteration at a
// random place, so this is a random sample: an expired entry goes first
// whenever the sample holds one, and no entry order can be aimed at.
func Soonest[K comparable, V any](m map[K]V, sample int, deadline func(V) int64) {
	var (
		victim  K
		soonest int64
		n       int
	)
	for k, v := range m {
		if d := deadline(v); n == 0 || d < soonest {
			victim, soonest = k, d
		}
		if n++; n == sample {
			break
		}
	}
	if n > 0 {
		delete(m, victim)
	}
}
