package postgres

import (
	"context"
	"fmt"
	"time"
)

// sqlTakeRateToken is one GCRA step in one statement: $1 key, $2 now,
// $3 the emission interval T (1/rate) and $4 the burst tolerance
// burst*T, all in microseconds. A bucket's tat (theoretical arrival
// time) moves to max(tat, now)+T if that stays within burst*T of now,
// which is taking one of burst tokens refilled one per T; otherwise it
// stays put. The conflicting row is locked, so concurrent takes from one
// bucket queue, each seeing the tat the one before it committed; SET
// expressions all read the row as it was, so allowed records the same
// decision the new tat reflects.
const sqlTakeRateToken = `INSERT INTO rate_limits AS r (key, tat, allowed) VALUES ($1, $2::bigint + $3::bigint, true)
	ON CONFLICT (key) DO UPDATE SET
		tat = CASE WHEN GREATEST(r.tat, $2::bigint) + $3::bigint - $2::bigint <= $4::bigint
			THEN GREATEST(r.tat, $2::bigint) + $3::bigint ELSE r.tat END,
		allowed = GREATEST(r.tat, $2::bigint) + $3::bigint - $2::bigint <= $4::bigint
	RETURNING tat, allowed`

// TakeRateToken implements storage.Storage.
func (s *Store) TakeRateToken(ctx context.Context, key string, now time.Time, rate float64, burst int) (bool, time.Duration, error) {
	if rate <= 0 || burst < 1 {
		return false, 0, fmt.Errorf("postgres: take rate token: rate %v and burst %d: want a positive rate and a burst of at least 1", rate, burst)
	}
	interval := max(1, time.Duration(float64(time.Second)/rate).Microseconds())
	tolerance := int64(burst) * interval
	at := now.UnixMicro()
	var (
		tat     int64
		allowed bool
	)
	if err := s.q().QueryRow(ctx, sqlTakeRateToken, key, at, interval, tolerance).Scan(&tat, &allowed); err != nil {
		return false, 0, wrap("take rate token", err)
	}
	if allowed {
		return true, 0, nil
	}
	// The next take succeeds once now reaches tat + T - burst*T.
	return false, time.Duration(tat+interval-tolerance-at) * time.Microsecond, nil
}
