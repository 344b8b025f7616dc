// Package srp implements the server side of the SRP-6a variant that Amazon
// Cognito user pools use for USER_SRP_AUTH (and, with other inputs, for
// DEVICE_SRP_AUTH), plus a small client that computes what Amplify JS v6
// sends, for tests and development tools.
//
// The package is pure math: no HTTP, no storage, no clock. Callers keep the
// salt and verifier, carry the server secret between the two requests, and
// check the timestamp's skew themselves.
//
// # The protocol
//
// The group is the RFC 3526 3072-bit MODP prime N with g = 2, and H is
// SHA-256. PAD(x) is the big-endian magnitude of x with a 0x00 byte in front
// when its top bit is set (Java's BigInteger.toByteArray, which Cognito's
// reference client mimicked through hex strings). Every hash input is the
// concatenation of such byte strings.
//
//	k = H(PAD(N) | PAD(g))
//	x = H(PAD(salt) | H(poolName | userID | ":" | password))
//	v = g^x mod N                      stored when the password is set
//	B = (k*v + g^b) mod N              sent as SRP_B
//	u = H(PAD(A) | PAD(B))             must not be 0
//	S = (A * v^u)^b mod N              the client gets the same S as
//	                                   (B - k*g^x)^(a + u*x) mod N
//	K = HKDF-SHA256(salt=PAD(u), ikm=PAD(S), info="Caldera Derived Key")[:16]
//	PASSWORD_CLAIM_SIGNATURE = base64(HMAC-SHA256(K, poolName | userID | secretBlock | TIMESTAMP))
//
// poolName is the part of the user pool ID after "_" ("us-east-1_AbC" gives
// "AbC"); userID is USER_ID_FOR_SRP, the pool's internal username (the sub
// for pools that sign in by email). For device SRP, poolName is the device
// group key and userID the device key.
//
// # Traps
//
// These are where implementations go wrong (other Cognito emulators have
// shipped the first and the last); the Amplify-generated vectors in testdata
// pin each of them:
//
//   - k hashes PAD(N) = 00 FF FF …, i.e. with the sign byte, and PAD(g) = 02.
//     Hashing N without the 00, or N left-padded to 384 bytes, gives a
//     different k; k must be 538282c4….
//   - PAD works on integers, so leading zero bytes vanish: PAD(u) is shorter
//     than 32 bytes when the hash u starts with 00 0x (x < 8), and PAD(S) can
//     be shorter than 384 bytes. The salt too is padded as the integer the
//     client parsed from the SALT hex, so a 16-byte salt 00 7f … is hashed as
//     15 bytes; [Verifier] does the same.
//   - The HKDF salt is u and the input key material is S, not the other way
//     round, and only the first 16 bytes of one HKDF block are the key.
//   - SRP_A arrives as JavaScript's BigInteger.toString(16): lowercase, no
//     padding, possibly odd length. [ParseA] accepts any case and length up
//     to [MaxAHexLen].
//   - TIMESTAMP is "Mon Jan 2 15:04:05 UTC 2006" in Go layout: English names,
//     day of month NOT zero-padded, 24-hour clock (a client formatting the
//     hour with "03" signs the wrong time every afternoon). The signature
//     covers the client's string byte for byte; [ParseTimestamp] rejects
//     anything that does not re-format to the same bytes, such as a
//     zero-padded day or a wrong weekday, which real Cognito reportedly
//     refuses too.
//
// # The server's exponent
//
// The client picks a 1024-bit a; the server here picks a 256-bit b, which
// makes g^b and the final ^b four times cheaper than a 1024-bit b would. That
// is safe because N is a safe prime (N = 2q+1 with q prime) and g = 2
// generates the subgroup of prime order q, so there is no small subgroup for
// a Pohlig–Hellman or van Oorschot–Wiener attack on short exponents to use;
// the best attack left on a 256-bit exponent is Pollard's kangaroo at about
// 2^128 steps, which matches the ~128-bit strength of a 3072-bit group
// anyway. NIST SP 800-56A Rev. 3 (§5.6.1.1.1) allows exactly this: private
// keys of 2s bits for a safe-prime group of strength s.
//
// # Computing g^b
//
// g and N never change, so g^b does not use big.Int.Exp but a table of
// powers of g built on the first call, in about 30 ms, and kept for the life
// of the process (3 MiB, which holds no pointers for the garbage collector
// to scan): T[i][j] = g^(j·2^(8i)) mod N for each of b's 32 byte positions i
// and each byte value j from 1 to 255. g^b is then the product mod N of
// T[i][b_i] over b's nonzero bytes b_i: at most 31 modular multiplications
// instead of the ~330 of big.Int.Exp, which makes it about six times faster
// and a sign-in about a quarter cheaper. The other two exponentiations have
// a base that changes with every user or every attempt, so they stay with
// big.Int.Exp. So does [Verifier], whose exponent x is long-lived (see
// below).
//
// # Timing
//
// Neither the table nor math/big's Exp runs in constant time. With the
// table, which entries are read depends on b's bytes, so a process sharing
// the machine's caches may see something of b in which cache lines are
// touched; the number of multiplications depends on how many of b's bytes
// are zero; and math/big's multiplication and division take time that depends on their
// operands. Exp leaks in the same ways, with its own table of 16 powers
// indexed by 4-bit windows of the exponent.
//
// What such a leak can reveal is one sign-in attempt's b. Whoever sent A and
// learned that b could compute the verifier v = (B - g^b)/k mod N and guess
// passwords offline against it; someone who recorded the attempt could test
// guesses against its signature. Side-channel attacks need many measurements
// of the same secret, and b offers very few: it is drawn afresh for every
// attempt and goes into at most three exponentiations (g^b here, g^b again
// if [RestoreServerSession] is used, and the final ^b in
// [ServerSession.Key]). That is why these leaks are accepted for b, and why
// callers must keep b ephemeral: SRP secrets live for one attempt, at most 3
// minutes, and are used once. cognate's user pools go further and seal the
// derived key, never b, into a SECRET_BLOCK that expires after 3 minutes and
// is accepted once.
//
// The long-lived secrets stay out of the table: the verifier v is only ever
// the base of an exponentiation, never the exponent, and on the server side
// the password-derived x is an exponent only in [Verifier], which runs when
// a password is set (and, in cognate's user pools, for the decoy of an
// unknown user) and uses big.Int.Exp.
package srp
