package srtpdec

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// rtpPacket builds a plain RTP packet: version 2, PT 0, 160 payload bytes
// that depend on seq so every packet differs.
func rtpPacket(ssrc uint32, seq uint16, ts uint32) []byte {
	p := make([]byte, 12+160)
	p[0], p[1] = 0x80, 0
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	for i := range p[12:] {
		p[12+i] = byte(int(seq)*7 + i)
	}
	return p
}

// rtcpSR builds an RTCP sender report (no report blocks).
func rtcpSR(ssrc uint32, n uint32) []byte {
	p := make([]byte, 28)
	p[0], p[1] = 0x80, 200
	binary.BigEndian.PutUint16(p[2:], 6)
	binary.BigEndian.PutUint32(p[4:], ssrc)
	binary.BigEndian.PutUint32(p[8:], 0xdead0000+n) // NTP
	binary.BigEndian.PutUint32(p[20:], n)           // packet count
	return p
}

func testKey(t testing.TB, suite Suite, seed byte) Key {
	t.Helper()
	in := suiteInfo[suite]
	raw := make([]byte, in.keyLen+in.saltLen)
	for i := range raw {
		raw[i] = seed + byte(i)*31
	}
	k, err := ParseCrypto("1 " + suite.String() + " inline:" + base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	src = netip.MustParseAddrPort("192.0.2.1:49170")
	t0  = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
)

// TestDecryptAgainstRFC3711Sender encrypts known RTP and RTCP with the
// independent sender for every suite and decrypts with the Decryptor:
// payloads must come back byte for byte, across a sequence wrap.
func TestDecryptAgainstRFC3711Sender(t *testing.T) {
	for s := AESCM128HMACSHA1_80; s <= AEADAES256GCM; s++ {
		t.Run(s.String(), func(t *testing.T) {
			k := testKey(t, s, byte(s))
			snd := newSender(k)
			d := New(Options{})
			if err := d.SetSourceKey(src, k); err != nil {
				t.Fatal(err)
			}
			const ssrc, n = 0x11223344, 300
			seq, roc := uint16(65400), uint32(0) // wraps after 136 packets
			for i := range n {
				plain := rtpPacket(ssrc, seq, uint32(i*160))
				got, err := d.RTP(t0.Add(time.Duration(i)*20*time.Millisecond), src, snd.protectRTP(plain, roc))
				if err != nil {
					t.Fatalf("packet %d (seq %d roc %d): %v", i, seq, roc, err)
				}
				if !bytes.Equal(got, plain) {
					t.Fatalf("packet %d differs", i)
				}
				if seq++; seq == 0 {
					roc++
				}
			}
			if s <= AESCM256HMACSHA1_32 { // SRTCP from the test sender: AES-CM only
				for i := range uint32(5) {
					plain := rtcpSR(ssrc, i)
					got, err := d.RTCP(t0, netip.AddrPortFrom(src.Addr(), src.Port()+1), snd.protectRTCP(plain, i))
					if err != nil {
						t.Fatalf("SRTCP %d: %v", i, err)
					}
					if !bytes.Equal(got, plain) {
						t.Fatalf("SRTCP %d differs:\n%x\n%x", i, got, plain)
					}
				}
			}
			st := d.Streams()
			if len(st) != 1 || st[0].RTP.Decrypted != n || st[0].RTP.AuthFailed != 0 || st[0].ROC != 1 {
				t.Fatalf("streams %+v", st)
			}
		})
	}
}

// TestMidStreamROC: a capture that starts when the sender's rollover
// counter is already 2 still decrypts, by guessing.
func TestMidStreamROC(t *testing.T) {
	k := testKey(t, AESCM128HMACSHA1_80, 9)
	snd := newSender(k)
	d := New(Options{})
	d.SetSSRCKey(0xabc, k)
	for i := range 50 {
		plain := rtpPacket(0xabc, uint16(1000+i), 0)
		got, err := d.RTP(t0, src, snd.protectRTP(plain, 2))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	st := d.Streams()[0]
	if !st.ROCGuessed || st.ROC != 2 || st.RTP.Decrypted != 50 {
		t.Fatalf("stream %+v", st)
	}
}

// TestAuthFailuresCounted: a wrong key, a flipped bit and a packet from
// an unknown source are refused and counted per stream.
func TestAuthFailuresCounted(t *testing.T) {
	k := testKey(t, AESCM128HMACSHA1_80, 1)
	wrong := testKey(t, AESCM128HMACSHA1_80, 2)
	snd, bad := newSender(k), newSender(wrong)
	d := New(Options{})
	d.SetSourceKey(src, k)
	other := netip.MustParseAddrPort("192.0.2.9:4000")
	for i := range 20 {
		if _, err := d.RTP(t0, src, snd.protectRTP(rtpPacket(1, uint16(i), 0), 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.RTP(t0, src, bad.protectRTP(rtpPacket(2, uint16(i), 0), 0)); !errors.Is(err, ErrAuth) {
			t.Fatalf("wrong key: %v", err)
		}
		p := snd.protectRTP(rtpPacket(1, uint16(100+i), 0), 0)
		p[20] ^= 1
		if _, err := d.RTP(t0, src, p); !errors.Is(err, ErrAuth) {
			t.Fatalf("flipped bit: %v", err)
		}
		if _, err := d.RTP(t0, other, snd.protectRTP(rtpPacket(3, uint16(i), 0), 0)); !errors.Is(err, ErrNoKey) {
			t.Fatalf("unknown source: %v", err)
		}
	}
	if _, err := d.RTP(t0, src, []byte{1, 2, 3}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short: %v", err)
	}
	st := d.Streams()
	if len(st) != 3 || st[0].RTP != (Counts{Packets: 40, Decrypted: 20, AuthFailed: 20}) ||
		st[1].RTP != (Counts{Packets: 20, AuthFailed: 20}) || st[2].RTP != (Counts{Packets: 20, NoKey: 20}) || d.Stats().Malformed != 1 {
		t.Fatalf("streams %+v, stats %+v", st, d.Stats())
	}
}

// TestStreamTableBounded: new SSRCs beyond MaxStreams are refused unless
// an idle one (by packet time) can be evicted.
func TestStreamTableBounded(t *testing.T) {
	d := New(Options{MaxStreams: 2, IdleTimeout: time.Minute})
	pkt := func(ssrc uint32) []byte { return rtpPacket(ssrc, 1, 0) }
	d.RTP(t0, src, pkt(1))
	d.RTP(t0, src, pkt(2))
	if _, err := d.RTP(t0.Add(time.Second), src, pkt(3)); !errors.Is(err, ErrTooManyStreams) {
		t.Fatalf("third stream: %v", err)
	}
	if _, err := d.RTP(t0.Add(2*time.Minute), src, pkt(3)); !errors.Is(err, ErrNoKey) {
		t.Fatalf("after idle: %v", err)
	}
	if st := d.Stats(); st.Refused != 1 || st.Evicted != 1 || len(d.Streams()) != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestParseCrypto(t *testing.T) {
	tests := []struct {
		in      string
		suite   Suite
		mki     []byte
		unenc   bool
		wantErr error
	}{
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", suite: AESCM128HMACSHA1_80},
		{in: "2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4", suite: AESCM128HMACSHA1_32, mki: []byte{0, 0, 0, 1}},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz UNENCRYPTED_SRTP", suite: AESCM128HMACSHA1_80, unenc: true},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz UNAUTHENTICATED_SRTP", wantErr: ErrUnsupportedSuite},
		{in: "1 F8_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", wantErr: ErrUnsupportedSuite},
		{in: "1 AES_256_CM_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", wantErr: ErrBadCrypto}, // 30 bytes, needs 46
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:!!!", wantErr: ErrBadCrypto},
		{in: "1 AES_CM_128_HMAC_SHA1_80 uri:http://x", wantErr: ErrBadCrypto},
		{in: "x AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", wantErr: ErrBadCrypto},
		{in: "1 AES_CM_128_HMAC_SHA1_80", wantErr: ErrBadCrypto},
	}
	for _, tc := range tests {
		k, err := ParseCrypto(tc.in)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("%q: err %v, want %v", tc.in, err, tc.wantErr)
		}
		if err != nil {
			continue
		}
		if k.Suite != tc.suite || !bytes.Equal(k.MKI, tc.mki) || k.UnencryptedSRTP != tc.unenc || len(k.MasterKey) != 16 || len(k.MasterSalt) != 14 {
			t.Fatalf("%q: %+v", tc.in, k)
		}
	}
	ssrc, k, err := ParseSSRCKey("0x11223344:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", AESCM128HMACSHA1_80)
	if err != nil || ssrc != 0x11223344 || len(k.MasterKey) != 16 {
		t.Fatalf("ParseSSRCKey: %v %x %+v", err, ssrc, k)
	}
	if _, _, err := ParseSSRCKey("nocolon", AESCM128HMACSHA1_80); !errors.Is(err, ErrBadCrypto) {
		t.Fatalf("ParseSSRCKey without colon: %v", err)
	}
}

func TestParseKeyArg(t *testing.T) {
	k30 := "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz" // 30 bytes
	k46 := base64.StdEncoding.EncodeToString(make([]byte, 46))
	k28 := base64.StdEncoding.EncodeToString(make([]byte, 28))
	k44 := base64.RawStdEncoding.EncodeToString(make([]byte, 44))
	for _, tc := range []struct {
		in      string
		ssrc    uint32
		suite   Suite
		wantErr error
	}{
		{in: "0x11223344:" + k30, ssrc: 0x11223344, suite: AESCM128HMACSHA1_80},
		{in: "42:" + k46, ssrc: 42, suite: AESCM256HMACSHA1_80},
		{in: "42:" + k28, ssrc: 42, suite: AEADAES128GCM},
		{in: "42:" + k44, ssrc: 42, suite: AEADAES256GCM},
		{in: "7:AES_CM_128_HMAC_SHA1_32:" + k30, ssrc: 7, suite: AESCM128HMACSHA1_32},
		{in: "7:AES_CM_128_HMAC_SHA1_32:" + k46, wantErr: ErrBadCrypto}, // length does not fit the named suite
		{in: "7:F8_128_HMAC_SHA1_80:" + k30, wantErr: ErrUnsupportedSuite},
		{in: "7:" + base64.StdEncoding.EncodeToString(make([]byte, 31)), wantErr: ErrBadCrypto},
		{in: "7:not base64!", wantErr: ErrBadCrypto},
		{in: "x:" + k30, wantErr: ErrBadCrypto},
		{in: "0x1ffffffff:" + k30, wantErr: ErrBadCrypto},
		{in: k30, wantErr: ErrBadCrypto},
	} {
		ssrc, k, err := ParseKeyArg(tc.in)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%q: err %v, want %v", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || ssrc != tc.ssrc || k.Suite != tc.suite || len(k.MasterKey) != suiteInfo[tc.suite].keyLen {
			t.Errorf("%q: %#x %v %v", tc.in, ssrc, k.Suite, err)
		}
	}
}
