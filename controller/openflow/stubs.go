package openflow

import "fmt"

func decodePacketOut(b []byte) (Message, error)        { return nil, fmt.Errorf("todo") }
func decodeMultipartRequest(b []byte) (Message, error) { return nil, fmt.Errorf("todo") }
func decodeMultipartReply(b []byte) (Message, error)   { return nil, fmt.Errorf("todo") }
