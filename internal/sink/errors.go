package sink

import "errors"

var (
	// ErrMixedLinkTypes: a classic pcap holds one link type, and a record
	// of another arrived (write .pcapng instead).
	ErrMixedLinkTypes = errors.New("sink: classic pcap holds one link type")
	// ErrClosed: the sink was written to after Close.
	ErrClosed = errors.New("sink: closed")
	// ErrSecretsInPcap: decryption secrets were given for a classic pcap,
	// which has no block to hold them (write .pcapng).
	ErrSecretsInPcap = errors.New("sink: classic pcap cannot hold decryption secrets")
)
