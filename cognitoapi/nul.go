package cognitoapi

import "bytes"

// unstorableMessage answers a request whose strings hold a NUL character:
// no Cognito parameter pattern admits control characters, and PostgreSQL
// text cannot store NUL, so such a request is refused the same way on
// every backend before anything runs.
const unstorableMessage = "1 validation error detected: a value contains a NUL character, which no parameter allows."

// hasNUL reports whether a JSON body has a string with a NUL character:
// the escape \u0000 preceded by an even number of backslashes (an odd
// number would make its backslash a literal one). A raw NUL byte is not
// valid JSON and fails decoding anyway.
func hasNUL(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`\u0000`))
		if j < 0 {
			return false
		}
		at := i + j
		n := 0
		for k := at - 1; k >= 0 && body[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
		i = at + 1
	}
}
