package report

import "errors"

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrUnknownFormat is returned by ParseFormat, ParseFlowFormat and the
	// writers when given a format they do not know.
	ErrUnknownFormat = errors.New("report: unknown format")
	// ErrBadFlow is returned by WriteFlow when a message or stream names
	// an endpoint index outside Flow.Endpoints.
	ErrBadFlow = errors.New("report: flow references a missing endpoint")
)
