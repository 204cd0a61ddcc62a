package sipflow

import (
	"bytes"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/internal/siplex"
)

// lookupLinear is LookupHeader as it was: every name compared.
func lookupLinear(name []byte) HeaderKind {
	if len(name) == 1 {
		return compactKind(name[0])
	}
	for i := range headerNames {
		if siplex.EqualFold(name, headerNames[i].name) {
			return headerNames[i].kind
		}
	}
	return HeaderOther
}

// FuzzLookupHeader: the index by length and first letter answers as the
// walk over every name does, for any name (seeded with every known name
// in three cases and near misses).
func FuzzLookupHeader(f *testing.F) {
	for _, h := range headerNames {
		f.Add([]byte(h.name))
		f.Add(bytes.ToUpper([]byte(h.name)))
		f.Add(bytes.ToLower([]byte(h.name)))
		f.Add([]byte(h.name[:len(h.name)-1] + "x"))
	}
	f.Add([]byte("v"))
	f.Add([]byte{})
	f.Add([]byte(strings.Repeat("A", 40)))
	f.Fuzz(func(t *testing.T, name []byte) {
		if got, want := LookupHeader(name), lookupLinear(name); got != want {
			t.Fatalf("LookupHeader(%q) = %v, want %v", name, got, want)
		}
	})
}
