package report

import "bytes"

// appendIndented appends src, one JSON value as encoding/json writes it
// compactly (no whitespace outside strings), indented exactly as
// json.Indent would indent it with prefix and indent. json.Indent runs
// its full scanner over every byte; for our own encoder's output only
// the string boundaries and the punctuation outside strings matter, and
// the bytes between them are copied a run at a time. The scan was the
// largest single cost of `rtp --format json` (issue 17).
// FuzzAppendIndented holds the two equal.
func appendIndented(dst, src []byte, prefix, indent string) []byte {
	needIndent, depth := false, 0
	inStr := false
	run := 0 // start of the bytes not yet copied
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inStr {
			// Jump to the closing quote: the first one not escaped, that
			// is, not after an odd run of backslashes.
			for {
				j := bytes.IndexByte(src[i:], '"')
				if j < 0 {
					return append(dst, src[run:]...) // not our encoder's output
				}
				i += j
				n := 0
				for k := i - 1; k >= 0 && src[k] == '\\'; k-- {
					n++
				}
				if n%2 == 0 {
					break
				}
				i++
			}
			inStr = false
			continue
		}
		switch c {
		case '"', '{', '[', ',', ':', '}', ']':
		default:
			if !needIndent {
				continue // inside a number or literal: copied with its run
			}
		}
		dst = append(dst, src[run:i]...)
		run = i + 1
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			dst = appendNewline(dst, prefix, indent, depth)
		}
		switch c {
		case '"':
			inStr = true
			run = i // the string, quotes included, is copied as a run
		default:
			run = i // a number or literal opening an array: copied as a run
		case '{', '[':
			// Empty objects and arrays stay {} and [].
			needIndent = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = appendNewline(dst, prefix, indent, depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if needIndent {
				needIndent = false
			} else {
				depth--
				dst = appendNewline(dst, prefix, indent, depth)
			}
			dst = append(dst, c)
		}
	}
	return append(dst, src[run:]...)
}

func appendNewline(dst []byte, prefix, indent string, depth int) []byte {
	dst = append(dst, '\n')
	dst = append(dst, prefix...)
	for range depth {
		dst = append(dst, indent...)
	}
	return dst
}
