package anon

import (
	"testing"

	"github.com/voiptool/voiptool/internal/anon/leak"
	"github.com/voiptool/voiptool/internal/testpeer"
)

// BenchmarkRewriteSIP measures the rewriter on an INVITE with SDP (the
// MB/s are of SIP text in).
func BenchmarkRewriteSIP(b *testing.B) {
	in := buildMsg("", headerCases[4].headers, "application/sdp", sdpBody)
	m := NewMapper(testKey(b, "bench"), Options{})
	b.SetBytes(int64(len(in)))
	t0 := testpeer.CPUTime()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.RewriteSIP(in); err != nil {
			b.Fatal(err)
		}
	}
	testpeer.ReportCPU(b, t0, int64(len(in)))
}

// BenchmarkRewriteSIPHeadersOnly: a BYE-sized message without body.
func BenchmarkRewriteSIPHeadersOnly(b *testing.B) {
	in := buildMsg("BYE sip:callee@biloxi.example.com SIP/2.0", nil, "", "")
	m := NewMapper(testKey(b, "bench"), Options{})
	b.SetBytes(int64(len(in)))
	t0 := testpeer.CPUTime()
	b.ReportAllocs()
	for b.Loop() {
		m.RewriteSIP(in)
	}
	testpeer.ReportCPU(b, t0, int64(len(in)))
}

// BenchmarkLeakCheckSIP scans rewritten SIP text for the identifiers of
// the input (the shape of a real check: text, few hits).
func BenchmarkLeakCheckSIP(b *testing.B) {
	in := buildMsg("", headerCases[4].headers, "application/sdp", sdpBody)
	m := NewMapper(testKey(b, "bench"), Options{})
	out, _ := m.RewriteSIP(in)
	c := leak.NewChecker(m.Identifiers())
	buf := make([]byte, 0, 1<<20)
	for len(buf)+len(out) <= cap(buf) {
		buf = append(buf, out...)
	}
	b.SetBytes(int64(len(buf)))
	t0 := testpeer.CPUTime()
	for b.Loop() {
		if hits := c.Scan(0, buf, nil); len(hits) != 0 {
			b.Fatal(hits[0])
		}
	}
	testpeer.ReportCPU(b, t0, int64(len(buf)))
}

// BenchmarkRewriteSIPCold: a new mapper per message, every pseudonym
// computed (FF1, Crypto-PAn, HMAC): the first message of each call.
func BenchmarkRewriteSIPCold(b *testing.B) {
	in := buildMsg("", headerCases[4].headers, "application/sdp", sdpBody)
	key := testKey(b, "bench")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	t0 := testpeer.CPUTime()
	for b.Loop() {
		if _, err := NewMapper(key, Options{}).RewriteSIP(in); err != nil {
			b.Fatal(err)
		}
	}
	testpeer.ReportCPU(b, t0, int64(len(in)))
}
