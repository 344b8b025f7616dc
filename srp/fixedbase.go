package srp

import (
	"math/big"
	"math/bits"
	"sync"
)

// gWindow is the digit width of the g^b table, chosen by measurement (see
// BenchmarkGExp and BenchmarkGExpBuild; times relative to big.Int.Exp, on
// amd64):
//
//	w  time  table     build
//	4  0.28  360 KiB    4 ms
//	5  0.24  605 KiB    6 ms
//	6  0.21  1.0 MiB   10 ms
//	7  0.18  1.7 MiB   19 ms
//	8  0.16  3.0 MiB   30 ms
//
// A server can afford 3 MiB and 30 ms once; 6 is the choice if it cannot.
const gWindow = 8

// gPow computes g^b mod N for the server secrets b, which are below
// 2^(8*SecretSize).
var gPow = &fixedBase{base: groupG, mod: groupN, expBits: 8 * SecretSize, w: gWindow}

// fixedBase computes powers of a fixed base modulo a fixed modulus with a
// table of precomputed powers built on first use (fixed-base windowing with
// every digit value of every digit position precomputed).
//
// An exponent e < 2^expBits is split into digits of w bits, e = Σ e_i·2^(w·i),
// so that base^e = Π base^(e_i·2^(w·i)). The table holds
// T[i][j] = base^(j·2^(w·i)) mod m for every digit position i and every
// j in 1..2^w-1 (j = 0 stands for 1 and is not stored), which makes an
// exponentiation one modular multiplication per nonzero digit after the
// first, and no squaring. For w = 8 and a 256-bit exponent that is at most
// 31 multiplications against the ~330 Montgomery multiplications of
// big.Int.Exp.
//
// It is safe for concurrent use: the table is written once, under once,
// and only read afterwards.
type fixedBase struct {
	base, mod *big.Int
	expBits   int // exponents below 2^expBits use the table
	w         int // digit width in bits, 1..16

	once  sync.Once
	limbs int // words per table entry: len(mod.Bits())
	// table holds every T[i][j] as limbs little-endian words, zero-padded,
	// in one allocation that holds no pointers (so the garbage collector
	// never scans it). T[i][j] starts at word (i*(2^w-1) + j-1) * limbs.
	table []big.Word
}

// rows returns the number of digit positions.
func (f *fixedBase) rows() int { return (f.expBits + f.w - 1) / f.w }

// cols returns the number of stored entries per digit position.
func (f *fixedBase) cols() int { return 1<<f.w - 1 }

// exp returns base^e mod m as a new Int. An exponent that is negative or
// not below 2^expBits, which the server never has, goes to big.Int.Exp.
func (f *fixedBase) exp(e *big.Int) *big.Int {
	if e.Sign() < 0 || e.BitLen() > f.expBits {
		return new(big.Int).Exp(f.base, e, f.mod)
	}
	f.once.Do(f.build)
	ew := e.Bits()
	z := new(big.Int)
	var t, prod, quo big.Int
	first := true
	for i := range f.rows() {
		j := digit(ew, i*f.w, f.w)
		if j == 0 {
			continue
		}
		f.entry(&t, i, j)
		if first {
			z.Set(&t) // a copy: z must not share the table's memory
			first = false
			continue
		}
		prod.Mul(z, &t)
		// QuoRem, reusing quo, measured faster than Mod (which allocates
		// the quotient) and than a Barrett reduction built from Mul.
		quo.QuoRem(&prod, f.mod, z)
	}
	if first { // e = 0
		return z.Mod(big.NewInt(1), f.mod)
	}
	return z
}

// entry sets t to T[i][j], sharing the table's memory, and returns t. The
// caller must treat t as read-only: writing to it would corrupt the table.
// The capacity is cut at the entry's end so that even a mistaken write
// could not spill into the next entry.
func (f *fixedBase) entry(t *big.Int, i int, j uint) *big.Int {
	o := (i*f.cols() + int(j) - 1) * f.limbs
	return t.SetBits(f.table[o : o+f.limbs : o+f.limbs])
}

// build fills the table. Row i starts from x = base^(2^(w·i)), and each
// entry is the previous one times x.
func (f *fixedBase) build() {
	f.limbs = len(f.mod.Bits())
	rows, cols := f.rows(), f.cols()
	table := make([]big.Word, rows*cols*f.limbs)
	x := new(big.Int).Mod(f.base, f.mod)
	var t, prod, quo big.Int
	for i := range rows {
		t.Set(x)
		for j := 1; j <= cols; j++ {
			o := (i*cols + j - 1) * f.limbs
			copy(table[o:o+f.limbs], t.Bits())
			prod.Mul(&t, x)
			quo.QuoRem(&prod, f.mod, &t)
		}
		// Now t = x^(2^w), the next row's x.
		x.Set(&t)
	}
	f.table = table
}

// digit returns the w bits of the little-endian words x starting at bit
// p, reading words past the end of x as zeros.
func digit(x []big.Word, p, w int) uint {
	const W = bits.UintSize
	i, s := p/W, uint(p%W)
	var d uint
	if i < len(x) {
		d = uint(x[i]) >> s
	}
	if s+uint(w) > W && i+1 < len(x) {
		d |= uint(x[i+1]) << (W - s)
	}
	return d & (1<<uint(w) - 1)
}
