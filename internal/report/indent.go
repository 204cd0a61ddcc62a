package report

// appendIndented appends src, one JSON value as encoding/json writes it
// compactly (no whitespace outside strings), indented exactly as
// json.Indent would indent it with prefix and indent. json.Indent runs
// its full scanner over every byte; for our own encoder's output only
// the string boundaries matter, and the scan was the largest single
// cost of `rtp --format json` (issue 17). FuzzAppendIndented holds the
// two equal.
func appendIndented(dst, src []byte, prefix, indent string) []byte {
	needIndent, depth := false, 0
	inStr, esc := false, false
	for _, c := range src {
		if inStr {
			dst = append(dst, c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			dst = appendNewline(dst, prefix, indent, depth)
		}
		switch c {
		case '"':
			inStr = true
			dst = append(dst, c)
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
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendNewline(dst []byte, prefix, indent string, depth int) []byte {
	dst = append(dst, '\n')
	dst = append(dst, prefix...)
	for range depth {
		dst = append(dst, indent...)
	}
	return dst
}
