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
// math/big's Exp is not constant time. b is used for a single sign-in
// attempt, so a timing attacker gets one noisy measurement per secret,
// which we accept; the verifier v, the long-lived secret, is only ever the
// base of an exponentiation, never the exponent.
package srp
