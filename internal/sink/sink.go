package sink

import (
	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
)

// RecordSink takes link-layer records. data and p are only valid during
// the call (they alias a reader's buffer). source is the index of the
// input the record came from: file writers keep one interface per source
// and link type, so records of different inputs stay apart.
type RecordSink interface {
	WriteRecord(source int, p pcap.Packet, data []byte) error
	Counts() Counts
	Close() error
}

// EventSink takes decoded events, valid only during the call.
type EventSink interface {
	WriteEvent(ev *capture.Event) error
	Counts() Counts
	Close() error
}

// Counts is what a sink did with what it was given. Written + Skipped +
// Failed is everything offered; a sink with a queue reports what it
// handed on as Written and its queue's own losses through its own stats.
type Counts struct {
	Written uint64 // records or events written (or queued for sending)
	Skipped uint64 // offered but not for this sink: already written, no longer in hand, a kind it does not carry
	Failed  uint64 // could not be written: no address to frame, not encodable, queue full
}
