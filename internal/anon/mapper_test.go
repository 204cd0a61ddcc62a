package anon

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/internal/anon/leak"
)

func TestKeys(t *testing.T) {
	a, _ := KeyFromString("secret")
	b, _ := KeyFromString("secret")
	c, _ := KeyFromString("Secret")
	if a != b || a == c {
		t.Fatal("passphrase derivation not deterministic or not key-sensitive")
	}
	if _, err := KeyFromString(""); err != ErrEmptyKey {
		t.Fatalf("empty key: %v", err)
	}
	r1, _ := NewRandomKey()
	r2, _ := NewRandomKey()
	if r1 == r2 || r1 == (Key{}) {
		t.Fatal("random keys equal or zero")
	}
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	os.WriteFile(raw, r1[:], 0o600)
	if k, err := KeyFromFile(raw); err != nil || k != r1 {
		t.Fatalf("raw key file: %v", err)
	}
	hx := filepath.Join(dir, "hex")
	os.WriteFile(hx, []byte("  "+strings.Repeat("ab", 32)+"\n"), 0o600)
	if k, err := KeyFromFile(hx); err != nil || k[0] != 0xab {
		t.Fatalf("hex key file: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("short"), 0o600)
	if _, err := KeyFromFile(bad); err != ErrKeyLength {
		t.Fatalf("short key file: %v", err)
	}
}

func TestNumberRule(t *testing.T) {
	m := NewMapper(testKey(t, "numbers"), Options{})
	plus := m.Number("+4930123456")
	zz := m.Number("004930123456")
	if len(plus) != len("+4930123456") || plus[0] != '+' {
		t.Fatalf("shape: %q", plus)
	}
	if zz != "00"+plus[1:] {
		t.Fatalf("+ and 00 forms disagree: %q vs %q", plus, zz)
	}
	if plus == "+4930123456" {
		t.Fatal("unchanged")
	}
	// separators keep their places, digits map as the plain number
	sep := m.Number("+49-30-123456")
	if sep[3] != '-' || sep[6] != '-' || strings.ReplaceAll(sep, "-", "") != plus {
		t.Fatalf("separators: %q vs %q", sep, plus)
	}
	for _, s := range []string{"12", "1001", "5551234", "+1", "0301234567", "(030) 1234"} {
		r := m.Number(s)
		if len(r) != len(s) {
			t.Errorf("%q -> %q: length", s, r)
		}
		for i := range s {
			if isDigit(s[i]) != isDigit(r[i]) {
				t.Errorf("%q -> %q: shape", s, r)
			}
		}
	}
	if m.Number("alice") != "alice" {
		t.Error("non-number changed by Number")
	}
}

func TestKeepDigits(t *testing.T) {
	m := NewMapper(testKey(t, "keep"), Options{KeepDigits: 4})
	a := m.Number("+4930123456")
	b := m.Number("004930123456")
	if !strings.HasPrefix(a, "+4930") || !strings.HasPrefix(b, "004930") || a[1:] != b[2:] {
		t.Fatalf("keep-digits: %q %q", a, b)
	}
	if a == "+4930123456" {
		t.Fatal("rest not encrypted")
	}
	// a number no longer than the kept prefix stays
	if m.Number("1234") != "1234" {
		t.Fatal("short number changed")
	}
	// the prefix is the tweak: same suffix, different prefix, different result
	if m.Number("+4930123456")[5:] == m.Number("+4940123456")[5:] {
		t.Fatal("tweak has no effect")
	}
}

func TestShapes(t *testing.T) {
	m := NewMapper(testKey(t, "shapes"), Options{})
	u := m.User("alice.smith")
	if len(u) != len("alice.smith") || !isAlpha(u[0]) || IsNumber(u) {
		t.Errorf("user %q", u)
	}
	if m.User("anonymous") != "anonymous" {
		t.Error("anonymous changed")
	}
	h := m.Host("PBX.Acme.COM")
	if h != m.Host("pbx.acme.com") || !strings.HasSuffix(h, HostSuffix) {
		t.Errorf("host %q", h)
	}
	if m.Host("anonymous.invalid") != "anonymous.invalid" {
		t.Error("reserved host changed")
	}
	for _, s := range []string{"127.0.0.1", "0.0.0.0", "::", "::1", "224.0.0.1", "ff02::1:2", "255.255.255.255"} {
		if r := m.Host(s); r != s {
			t.Errorf("special %s -> %s", s, r)
		}
	}
	for _, s := range []string{"10.0.0.1", "2001:db8::1", "::ffff:192.0.2.1"} {
		a := netip.MustParseAddr(s)
		r := m.Addr(a)
		if r == a || r.Is4() != a.Is4() || r.Is4In6() != a.Is4In6() {
			t.Errorf("%s -> %s", s, r)
		}
	}
	// IPv4-mapped maps like its IPv4 form
	if m.Addr(netip.MustParseAddr("::ffff:192.0.2.1")).Unmap() != m.Addr(netip.MustParseAddr("192.0.2.1")) {
		t.Error("mapped IPv4 inconsistent")
	}
	mac := [6]byte{0x02, 0x15, 0x65, 0x12, 0x34, 0x56} // locally administered
	r := m.MAC(mac)
	if r == mac || r[0]&3 != mac[0]&3 {
		t.Errorf("MAC %x -> %x", mac, r)
	}
	mc := [6]byte{0x01, 0x00, 0x5e, 0, 0, 1}
	if m.MAC(mc) != mc {
		t.Error("multicast MAC changed")
	}
	if b := m.Branch("z9hG4bK776asdhds"); !strings.HasPrefix(b, "z9hG4bK") || len(b) != 16 {
		t.Errorf("branch %q", b)
	}
	id := m.CallID("a84b4c76e66710@pc33.atlanta.example.com")
	if !strings.HasPrefix(id[15:], "h") || id[14] != '@' {
		t.Errorf("call-id %q", id)
	}
	tok := m.Token("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
	if len(tok) != 36 || !allHex(tok) || tok[8] != '-' {
		t.Errorf("uuid token %q", tok)
	}
	if tok := m.Token("Jürgen"); len(tok) != len("Jürgen") || bytes.ContainsAny([]byte(tok), "ü") {
		t.Errorf("non-ASCII kept: %q", tok)
	}
}

func TestWriteMap(t *testing.T) {
	m := NewMapper(testKey(t, "map"), Options{MaxEntries: 3})
	m.User("alice1")
	m.User("alice2")
	m.Host("example.org")
	m.Number("+4930123456")
	var buf bytes.Buffer
	if err := m.WriteMap(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || m.Stats.TableFull != 1 {
		t.Fatalf("map %q, TableFull %d", lines, m.Stats.TableFull)
	}
	if !strings.HasPrefix(lines[0], "user\talice1\t") {
		t.Fatalf("first line %q", lines[0])
	}
	if m.Identifiers().Dropped != 1 {
		t.Fatalf("identifier set: dropped %d", m.Identifiers().Dropped)
	}
	if !m.Identifiers().Contains(leak.User, "alice1") {
		t.Fatal("original not recorded")
	}
}

func TestNameShape(t *testing.T) {
	m := NewMapper(testKey(t, "names"), Options{})
	a, b := m.Name("Alice Smith"), m.Name("ALICE smith")
	if len(a) != 11 || a[5] != ' ' || !('A' <= a[0] && a[0] <= 'Z') || !('a' <= a[1] && a[1] <= 'z') || !('A' <= a[6] && a[6] <= 'Z') {
		t.Fatalf("shape lost: %q", a)
	}
	if !strings.EqualFold(a, b) || a == "Alice Smith" {
		t.Fatalf("case changes the pseudonym: %q %q", a, b)
	}
	if r := m.Name("R2D2"); len(r) != 4 || !isDigit(r[1]) || isDigit(r[0]) {
		t.Fatalf("digits: %q", r)
	}
}

func TestNameNonASCIICase(t *testing.T) {
	m := NewMapper(testKey(t, "names"), Options{})
	for _, s := range []string{"İstanbul Ünal", "\xff\xfeA", "Jürgen ÄÖÜ"} {
		if r := m.Name(s); len(r) != len(s) {
			t.Errorf("%q -> %q: length", s, r)
		}
	}
}
