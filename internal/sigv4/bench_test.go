package sigv4

import "testing"

// BenchmarkVerify measures one verification of a typical cognito-idp admin
// call, with and without the derived-key cache.
func BenchmarkVerify(b *testing.B) {
	for _, bc := range []struct {
		name    string
		noCache bool
	}{{"key-cache", false}, {"no-key-cache", true}} {
		b.Run(bc.name, func(b *testing.B) {
			r, body := signedCognito(b)
			v := newVerifier(t0)
			v.noKeyCache = bc.noCache
			if _, err := v.Verify(r, body); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(r, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyParallel shows the cache mutex under contention.
func BenchmarkVerifyParallel(b *testing.B) {
	r, body := signedCognito(b)
	v := newVerifier(t0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(r, body); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
