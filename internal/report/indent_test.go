package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

// indentOracle is what encodeJSONArray wrote before appendIndented:
// encoding/json's own indentation.
func indentOracle(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	e.SetIndent("  ", "  ")
	if err := e.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func compact(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendIndented(t *testing.T) {
	for _, v := range []any{
		nil, 1.5, "x", []int{}, map[string]any{}, []any{[]int{}, map[string]int{}},
		map[string]any{"a": []any{1, "b,c:{[", map[string]any{"q\"uo\\te": "\\\"", "e": []string{}}}, "z": nil},
		[]any{"<&>", "\u2028", "\x1b[2J", map[string]any{"k": []any{[]any{[]any{}}}}},
	} {
		want := indentOracle(t, v)
		if got := appendIndented(nil, compact(t, v), "  ", "  "); !bytes.Equal(got, want) {
			t.Errorf("%#v:\n got %s\nwant %s", v, got, want)
		}
	}
}

// FuzzAppendIndented: any JSON value, re-encoded by encoding/json, is
// indented by appendIndented exactly as json.Indent indents it.
func FuzzAppendIndented(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":""}],"c":{}}`, `["\"\\",[],{}]`, `"x"`, `{"k":"a,b:{c}[d]"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		want := indentOracle(t, v)
		if got := appendIndented(nil, compact(t, v), "  ", "  "); !bytes.Equal(got, want) {
			t.Fatalf("input %q:\n got %s\nwant %s", b, got, want)
		}
	})
}
