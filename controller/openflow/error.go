package openflow

import "fmt"

// Error is an OFPT_ERROR message; it is also a Go error naming its type and
// code the way ovs-ofctl does (e.g. "OFPBAC_BAD_OUT_PORT").
type Error struct {
	ErrType uint16
	Code    uint16
	// Experimenter is set when ErrType is 0xffff.
	Experimenter uint32
	// Data is (a prefix of) the offending request.
	Data []byte
}

func (*Error) Type() MsgType { return TypeError }

func (m *Error) appendBody(b []byte) ([]byte, error) {
	b = put16(put16(b, m.ErrType), m.Code)
	if m.ErrType == 0xffff {
		b = put32(b, m.Experimenter)
	}
	return append(b, m.Data...), nil
}

func decodeError(b []byte) (Message, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("error message: %w", ErrShort)
	}
	m := &Error{ErrType: be16(b), Code: be16(b[2:])}
	b = b[4:]
	if m.ErrType == 0xffff {
		if len(b) < 4 {
			return nil, fmt.Errorf("experimenter error: %w", ErrShort)
		}
		m.Experimenter, b = be32(b), b[4:]
	}
	m.Data = clone(b)
	return m, nil
}

// Error implements error.
func (m *Error) Error() string {
	if m.ErrType == 0xffff {
		return fmt.Sprintf("openflow error: experimenter 0x%x code %d", m.Experimenter, m.Code)
	}
	t, ok := errorTypeNames[m.ErrType]
	if !ok {
		return fmt.Sprintf("openflow error: type %d code %d", m.ErrType, m.Code)
	}
	if m.Code < uint16(len(t.codes)) && t.codes[m.Code] != "" {
		return "openflow error: " + t.codes[m.Code]
	}
	return fmt.Sprintf("openflow error: %s code %d", t.name, m.Code)
}

type errorType struct {
	name  string
	codes []string
}

// errorTypeNames names the OpenFlow 1.5 error types and codes.
var errorTypeNames = map[uint16]errorType{
	0: {"OFPET_HELLO_FAILED", []string{"OFPHFC_INCOMPATIBLE", "OFPHFC_EPERM"}},
	1: {"OFPET_BAD_REQUEST", []string{"OFPBRC_BAD_VERSION", "OFPBRC_BAD_TYPE",
		"OFPBRC_BAD_MULTIPART", "OFPBRC_BAD_EXPERIMENTER", "OFPBRC_BAD_EXP_TYPE",
		"OFPBRC_EPERM", "OFPBRC_BAD_LEN", "OFPBRC_BUFFER_EMPTY", "OFPBRC_BUFFER_UNKNOWN",
		"OFPBRC_BAD_TABLE_ID", "OFPBRC_IS_SLAVE", "OFPBRC_BAD_PORT", "OFPBRC_BAD_PACKET",
		"OFPBRC_MULTIPART_BUFFER_OVERFLOW", "OFPBRC_MULTIPART_REQUEST_TIMEOUT",
		"OFPBRC_MULTIPART_REPLY_TIMEOUT"}},
	2: {"OFPET_BAD_ACTION", []string{"OFPBAC_BAD_TYPE", "OFPBAC_BAD_LEN",
		"OFPBAC_BAD_EXPERIMENTER", "OFPBAC_BAD_EXP_TYPE", "OFPBAC_BAD_OUT_PORT",
		"OFPBAC_BAD_ARGUMENT", "OFPBAC_EPERM", "OFPBAC_TOO_MANY", "OFPBAC_BAD_QUEUE",
		"OFPBAC_BAD_OUT_GROUP", "OFPBAC_MATCH_INCONSISTENT", "OFPBAC_UNSUPPORTED_ORDER",
		"OFPBAC_BAD_TAG", "OFPBAC_BAD_SET_TYPE", "OFPBAC_BAD_SET_LEN",
		"OFPBAC_BAD_SET_ARGUMENT", "OFPBAC_BAD_SET_MASK"}},
	3: {"OFPET_BAD_INSTRUCTION", []string{"OFPBIC_UNKNOWN_INST", "OFPBIC_UNSUP_INST",
		"OFPBIC_BAD_TABLE_ID", "OFPBIC_UNSUP_METADATA", "OFPBIC_UNSUP_METADATA_MASK",
		"OFPBIC_BAD_EXPERIMENTER", "OFPBIC_BAD_EXP_TYPE", "OFPBIC_BAD_LEN", "OFPBIC_EPERM",
		"OFPBIC_DUP_INST"}},
	4: {"OFPET_BAD_MATCH", []string{"OFPBMC_BAD_TYPE", "OFPBMC_BAD_LEN", "OFPBMC_BAD_TAG",
		"OFPBMC_BAD_DL_ADDR_MASK", "OFPBMC_BAD_NW_ADDR_MASK", "OFPBMC_BAD_WILDCARDS",
		"OFPBMC_BAD_FIELD", "OFPBMC_BAD_VALUE", "OFPBMC_BAD_MASK", "OFPBMC_BAD_PREREQ",
		"OFPBMC_DUP_FIELD", "OFPBMC_EPERM"}},
	5: {"OFPET_FLOW_MOD_FAILED", []string{"OFPFMFC_UNKNOWN", "OFPFMFC_TABLE_FULL",
		"OFPFMFC_BAD_TABLE_ID", "OFPFMFC_OVERLAP", "OFPFMFC_EPERM", "OFPFMFC_BAD_TIMEOUT",
		"OFPFMFC_BAD_COMMAND", "OFPFMFC_BAD_FLAGS", "OFPFMFC_CANT_SYNC", "OFPFMFC_BAD_PRIORITY",
		"OFPFMFC_IS_SYNC"}},
	6: {"OFPET_GROUP_MOD_FAILED", []string{"OFPGMFC_GROUP_EXISTS", "OFPGMFC_INVALID_GROUP",
		"OFPGMFC_WEIGHT_UNSUPPORTED", "OFPGMFC_OUT_OF_GROUPS", "OFPGMFC_OUT_OF_BUCKETS",
		"OFPGMFC_CHAINING_UNSUPPORTED", "OFPGMFC_WATCH_UNSUPPORTED", "OFPGMFC_LOOP",
		"OFPGMFC_UNKNOWN_GROUP", "OFPGMFC_CHAINED_GROUP", "OFPGMFC_BAD_TYPE",
		"OFPGMFC_BAD_COMMAND", "OFPGMFC_BAD_BUCKET", "OFPGMFC_BAD_WATCH", "OFPGMFC_EPERM",
		"OFPGMFC_UNKNOWN_BUCKET", "OFPGMFC_BUCKET_EXISTS"}},
	7:  {"OFPET_PORT_MOD_FAILED", nil},
	8:  {"OFPET_TABLE_MOD_FAILED", nil},
	9:  {"OFPET_QUEUE_OP_FAILED", nil},
	10: {"OFPET_SWITCH_CONFIG_FAILED", []string{"OFPSCFC_BAD_FLAGS", "OFPSCFC_BAD_LEN", "OFPSCFC_EPERM"}},
	11: {"OFPET_ROLE_REQUEST_FAILED", nil},
	12: {"OFPET_METER_MOD_FAILED", []string{"OFPMMFC_UNKNOWN", "OFPMMFC_METER_EXISTS",
		"OFPMMFC_INVALID_METER", "OFPMMFC_UNKNOWN_METER", "OFPMMFC_BAD_COMMAND",
		"OFPMMFC_BAD_FLAGS", "OFPMMFC_BAD_RATE", "OFPMMFC_BAD_BURST", "OFPMMFC_BAD_BAND",
		"OFPMMFC_BAD_BAND_VALUE", "OFPMMFC_OUT_OF_METERS", "OFPMMFC_OUT_OF_BANDS"}},
	13: {"OFPET_TABLE_FEATURES_FAILED", nil},
	14: {"OFPET_BAD_PROPERTY", nil},
	15: {"OFPET_ASYNC_CONFIG_FAILED", nil},
	16: {"OFPET_FLOW_MONITOR_FAILED", nil},
	17: {"OFPET_BUNDLE_FAILED", []string{"OFPBFC_UNKNOWN", "OFPBFC_EPERM", "OFPBFC_BAD_ID",
		"OFPBFC_BUNDLE_EXIST", "OFPBFC_BUNDLE_CLOSED", "OFPBFC_OUT_OF_BUNDLES",
		"OFPBFC_BAD_TYPE", "OFPBFC_BAD_FLAGS", "OFPBFC_MSG_BAD_LEN", "OFPBFC_MSG_BAD_XID",
		"OFPBFC_MSG_UNSUP", "OFPBFC_MSG_CONFLICT", "OFPBFC_MSG_TOO_MANY", "OFPBFC_MSG_FAILED",
		"OFPBFC_TIMEOUT", "OFPBFC_BUNDLE_IN_PROGRESS"}},
}
