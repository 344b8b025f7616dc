package srp

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"
)

// fixedBaseExponents returns exponents below 2^bits that exercise the
// digit handling of a table with w-bit digits: 0, 1, powers of two at every
// position, all ones, exponents whose digits are mostly or alternately
// zero, digits that straddle a word boundary, and random values of random
// lengths.
func fixedBaseExponents(t testing.TB, bits, w int) []*big.Int {
	t.Helper()
	one := big.NewInt(1)
	pow2 := func(k int) *big.Int { return new(big.Int).Lsh(one, uint(k)) }
	mask := func(k int) *big.Int { return new(big.Int).Sub(pow2(k), one) }
	var es []*big.Int
	add := func(e ...*big.Int) { es = append(es, e...) }

	add(big.NewInt(0), big.NewInt(1), big.NewInt(2), big.NewInt(3))
	add(mask(w), pow2(w), new(big.Int).Add(pow2(w), one))
	add(mask(bits), mask(bits-1), new(big.Int).Sub(mask(bits), one))
	for k := range bits {
		add(pow2(k)) // a single nonzero digit, at each position
		if k%13 == 0 {
			add(new(big.Int).Add(pow2(k), one))
		}
	}
	// Only the top digit, only the bottom and top digits, every digit but
	// one, and every other digit.
	top := (bits - 1) / w * w
	add(new(big.Int).Lsh(mask(bits-top), uint(top)))
	add(new(big.Int).Add(pow2(bits-1), one))
	alt0, alt1 := new(big.Int), new(big.Int)
	for i := 0; i*w < bits; i++ {
		d := mask(min(w, bits-i*w))
		d.Lsh(d, uint(i*w))
		if i%2 == 0 {
			alt0.Or(alt0, d)
		} else {
			alt1.Or(alt1, d)
		}
		add(new(big.Int).Xor(mask(bits), d))
	}
	add(alt0, alt1)
	// Byte patterns, which are the digits for w = 8.
	for _, pattern := range []byte{0x00, 0x01, 0x80, 0xff} {
		buf := make([]byte, bits/8)
		for i := range buf {
			if i%3 == 0 {
				buf[i] = pattern
			}
		}
		add(new(big.Int).SetBytes(buf))
	}
	// Random exponents of full and random length.
	for range 32 {
		e, err := rand.Int(rand.Reader, pow2(bits))
		if err != nil {
			t.Fatal(err)
		}
		add(e)
		l, _ := rand.Int(rand.Reader, big.NewInt(int64(bits)))
		add(new(big.Int).Rsh(e, uint(l.Int64())))
	}
	for _, e := range es {
		if e.BitLen() > bits {
			t.Fatalf("test exponent %x has more than %d bits", e, bits)
		}
	}
	return es
}

func checkFixedBase(t *testing.T, f *fixedBase, es []*big.Int) {
	t.Helper()
	for _, e := range es {
		want := new(big.Int).Exp(f.base, e, f.mod)
		got := f.exp(e)
		if got.Cmp(want) != 0 {
			t.Fatalf("w=%d: %v^%x mod m: table gives %x, Exp gives %x", f.w, f.base, e, got, want)
		}
		// The result must be the caller's to modify: writing to it must
		// not reach the table.
		got.Add(got, big.NewInt(1))
		if again := f.exp(e); again.Cmp(want) != 0 {
			t.Fatalf("w=%d: %v^%x mod m changed after writing to an earlier result", f.w, f.base, e)
		}
	}
}

func TestGPow(t *testing.T) {
	checkFixedBase(t, gPow, fixedBaseExponents(t, gPow.expBits, gPow.w))
	if want := gPow.rows() * gPow.cols() * len(groupN.Bits()); len(gPow.table) != want {
		t.Fatalf("table has %d words, want %d", len(gPow.table), want)
	}
}

// TestFixedBaseShapes checks other digit widths, including ones whose
// digits straddle word boundaries, an exponent size that is not a
// multiple of the width, and another base.
func TestFixedBaseShapes(t *testing.T) {
	v := new(big.Int).Exp(groupG, big.NewInt(123456789), groupN)
	for _, tc := range []struct {
		name    string
		base    *big.Int
		expBits int
		w       int
	}{
		{"g", groupG, 256, 3},
		{"g", groupG, 256, 4},
		{"g", groupG, 256, 5},
		{"g", groupG, 256, 6},
		{"g", groupG, 256, 7},
		{"g", groupG, 100, 7},
		{"v", v, 256, 6},
		{"3", big.NewInt(3), 130, 8},
	} {
		t.Run(fmt.Sprintf("base=%s/bits=%d/w=%d", tc.name, tc.expBits, tc.w), func(t *testing.T) {
			f := &fixedBase{base: tc.base, mod: groupN, expBits: tc.expBits, w: tc.w}
			checkFixedBase(t, f, fixedBaseExponents(t, tc.expBits, tc.w))
		})
	}
}

// TestFixedBaseFallback checks exponents the table does not cover.
func TestFixedBaseFallback(t *testing.T) {
	f := &fixedBase{base: groupG, mod: groupN, expBits: 256, w: 4}
	big1 := new(big.Int).Lsh(big.NewInt(1), 256)
	big2 := new(big.Int).Add(big1, big.NewInt(12345))
	big3, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 1024))
	big3.SetBit(big3, 1023, 1)
	checkFixedBase(t, f, []*big.Int{big1, big2, big3, big.NewInt(-1), big.NewInt(-7)})
	if f.table != nil {
		t.Fatal("the fallback built the table")
	}
}

// TestFixedBaseConcurrent has several goroutines race to build and use the
// same table (run it with -race).
func TestFixedBaseConcurrent(t *testing.T) {
	f := &fixedBase{base: groupG, mod: groupN, expBits: 256, w: 4}
	es := fixedBaseExponents(t, 256, 4)[:40]
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range es {
				e := es[(i+5*g)%len(es)]
				if f.exp(e).Cmp(new(big.Int).Exp(groupG, e, groupN)) != 0 {
					errs <- fmt.Sprintf("goroutine %d: wrong power for %x", g, e)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkGExp compares g^b by big.Int.Exp and by tables of several digit
// widths, alternating the two on the same random 256-bit b so that noise
// on a busy machine hits both alike. It reports each one's time, their
// ratio, the table's size and how long it took to build.
func BenchmarkGExp(b *testing.B) {
	exps := make([]*big.Int, 64) // random secrets, as NewServerSession draws them
	for i := range exps {
		var secret [SecretSize]byte
		rand.Read(secret[:])
		exps[i] = new(big.Int).SetBytes(secret[:])
	}
	for _, w := range []int{4, 5, 6, 7, 8} {
		b.Run(fmt.Sprintf("w=%d", w), func(b *testing.B) {
			f := &fixedBase{base: groupG, mod: groupN, expBits: 8 * SecretSize, w: w}
			start := time.Now()
			f.once.Do(f.build)
			build := time.Since(start)
			var tExp, tTable time.Duration
			i := 0
			for b.Loop() {
				e := exps[i%len(exps)]
				i++
				t0 := time.Now()
				want := new(big.Int).Exp(groupG, e, groupN)
				t1 := time.Now()
				got := f.exp(e)
				t2 := time.Now()
				tExp += t1.Sub(t0)
				tTable += t2.Sub(t1)
				if got.Cmp(want) != 0 {
					b.Fatal("mismatch")
				}
			}
			b.ReportMetric(float64(tExp.Nanoseconds())/float64(i), "exp-ns/op")
			b.ReportMetric(float64(tTable.Nanoseconds())/float64(i), "table-ns/op")
			b.ReportMetric(float64(tTable)/float64(tExp), "table/exp")
			b.ReportMetric(float64(len(f.table))*float64(bitsPerWord/8)/1024, "table-KiB")
			b.ReportMetric(float64(build.Microseconds())/1000, "build-ms")
		})
	}
}

const bitsPerWord = 32 << (^big.Word(0) >> 63)

// BenchmarkGExpBuild is the one-off cost of building the g^b table for
// several digit widths; B/op is the table's memory.
func BenchmarkGExpBuild(b *testing.B) {
	for _, w := range []int{4, 5, 6, 7, 8} {
		b.Run(fmt.Sprintf("w=%d", w), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f := &fixedBase{base: groupG, mod: groupN, expBits: 8 * SecretSize, w: w}
				f.once.Do(f.build)
			}
		})
	}
}
