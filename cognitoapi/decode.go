package cognitoapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cognate-auth/cognate/userpool"
)

// decode reads a request body into v the way AWS JSON services do:
// an empty body is {}, unknown members are ignored, and anything that is
// not a JSON object of the right shapes is a SerializationException.
func decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return serializationError("Request body must be a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return serializationError(fmt.Sprintf("Unexpected type for member %s: %s is not a %s.", te.Field, te.Value, te.Type))
		}
		return serializationError("Malformed JSON in request body.")
	}
	// Anything but whitespace after the object is refused. dec.More alone
	// would let a stray "]" or "}" through: it reports those as the end of
	// an enclosing value, not as more input.
	if _, err := dec.Token(); err != io.EOF {
		return serializationError("Unexpected content after the JSON object.")
	}
	return nil
}

func serializationError(msg string) error {
	return &userpool.Error{Type: "SerializationException", Message: msg}
}
