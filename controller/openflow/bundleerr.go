package openflow

import "fmt"

// BundleMessageError is the switch's rejection of one message of a bundle
// (which then applies nothing): Index is the message's position in the
// list given to Conn.Bundle, so that the caller can tell which one.
type BundleMessageError struct {
	Index   int
	Message Message
	Err     *Error
}

func (e *BundleMessageError) Error() string {
	return fmt.Sprintf("bundle message %d (%T): %v", e.Index, e.Message, e.Err)
}

func (e *BundleMessageError) Unwrap() error { return e.Err }
