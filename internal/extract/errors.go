package extract

import "errors"

var (
	// ErrNothingToSave is returned when none of the calls has a message
	// to save.
	ErrNothingToSave = errors.New("extract: no messages to save")
	// ErrMediaNotKept is returned, wrapped with the number of streams,
	// after the file is written when media was asked for calls whose
	// messages came from a source no file holds (a live interface, a HEP
	// collector, stdin): the engine keeps no RTP packets, so only their
	// signalling is saved.
	ErrMediaNotKept = errors.New("extract: media of a live source is not kept")
	// ErrMessagesNotSaved is returned, wrapped with the counts, after the
	// file is written when messages that must be framed from the store
	// could not be: their bytes are gone (the spill file failed or was
	// closed) or they cannot be framed (no address, too large).
	ErrMessagesNotSaved = errors.New("extract: messages not saved")

	// errRescan says a call cannot be saved by offset (gzip source) and
	// the files must be decoded again.
	errRescan = errors.New("extract: re-read by decoding")
)
