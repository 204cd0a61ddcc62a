package main

import (
	"testing"

	"github.com/spf13/cobra"
)

// --srtp-key on the reading commands: parsed into the keys the engine
// gets; a malformed one is a usage error before anything is read.
func TestSRTPKeyFlag(t *testing.T) {
	const k30 = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	var got *callsOptions
	reached := false
	cmd := newCmdCalls(testIO(), func(o *callsOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "a.pcap", "--srtp-key", "0x1234:"+k30, "--srtp-key", "99:AES_CM_128_HMAC_SHA1_32:"+k30); err != nil {
		t.Fatal(err)
	}
	keys, err := got.in.srtpKeyList()
	if err != nil || len(keys) != 2 || keys[0].SSRC != 0x1234 || keys[1].SSRC != 99 || keys[1].Key.Suite.String() != "AES_CM_128_HMAC_SHA1_32" {
		t.Errorf("keys %+v, %v", keys, err)
	}
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdCalls(testIO(), func(*callsOptions) error { *r = true; return nil })
	}, [][]string{{"a.pcap", "--srtp-key", "1234"}, {"a.pcap", "--srtp-key", "1:abc"}, {"a.pcap", "--srtp-key", "x:" + k30}})
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdCapture(testIO(), func(*captureOptions) error { *r = true; return nil })
	}, [][]string{{"-i", "lo", "--srtp-key", "1:abc"}})
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdOpen(testIO(), func(*openOptions) error { *r = true; return nil })
	}, [][]string{{"a.pcap", "--srtp-key", "1:abc"}})
}

// --keylog is a hidden spelling of --tls-keylog; --keylog-watch needs one.
func TestKeylogFlags(t *testing.T) {
	var got *callsOptions
	reached := false
	cmd := newCmdCalls(testIO(), func(o *callsOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "a.pcap", "--keylog", "k.log", "--keylog-watch"); err != nil {
		t.Fatal(err)
	}
	if got.in.tlsKeylog != "k.log" || !got.in.keylogWatch {
		t.Errorf("options %+v", got.in)
	}
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdCalls(testIO(), func(*callsOptions) error { *r = true; return nil })
	}, [][]string{{"a.pcap", "--keylog-watch"}})
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdCapture(testIO(), func(*captureOptions) error { *r = true; return nil })
	}, [][]string{{"-i", "lo", "--keylog-watch"}})
}
