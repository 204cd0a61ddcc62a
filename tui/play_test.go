package tui

import (
	"strings"
	"testing"
	"time"
)

// fakePlayer records what the keys asked of it.
type fakePlayer struct {
	st    PlayState
	calls []string
}

func (p *fakePlayer) PlayState() PlayState { return p.st }
func (p *fakePlayer) TogglePause()         { p.st.Paused = !p.st.Paused; p.calls = append(p.calls, "pause") }
func (p *fakePlayer) Faster()              { p.st.Speed *= 2; p.calls = append(p.calls, "faster") }
func (p *fakePlayer) Slower()              { p.st.Speed /= 2; p.calls = append(p.calls, "slower") }
func (p *fakePlayer) Step()                { p.calls = append(p.calls, "step") }
func (p *fakePlayer) Seek(d time.Duration) { p.calls = append(p.calls, "seek "+d.String()) }

// With a Player the header shows its state, speed and capture clock, and
// the playback keys drive it; without one the same keys do nothing of
// the sort (and the header has no playback field).
func TestPlaybackKeysAndHeader(t *testing.T) {
	p := &fakePlayer{st: PlayState{Speed: 1, Clock: time.Date(2026, 3, 14, 9, 26, 53, 510e6, time.UTC)}}
	m := newTestModel(newMemData(5), 160, 48, Options{Player: p, Location: time.UTC})
	head := strings.Split(screen(m), "\n")[0]
	if !strings.Contains(head, "▶ x1 09:26:53.510") {
		t.Fatalf("header: %q", head)
	}
	d := newMemData(5)
	d.counters.LoadDone, d.counters.LoadTotal = 50, 100
	if l := strings.Split(screen(newTestModel(d, 160, 48, Options{Player: p})), "\n")[1]; !strings.Contains(l, "played 50%") {
		t.Errorf("progress line while playing: %q", l)
	}
	press(t, m, "P", "+", "+", "-", "N", "]", "}")
	want := []string{"pause", "faster", "faster", "slower", "step", "seek 10s", "seek 1m0s"}
	if strings.Join(p.calls, ",") != strings.Join(want, ",") {
		t.Errorf("player calls %v, want %v", p.calls, want)
	}
	head = strings.Split(screen(m), "\n")[0]
	if !strings.Contains(head, "‖ x2 09:26:53.510") {
		t.Errorf("paused at x2: header %q", head)
	}

	m = newTestModel(newMemData(5), 160, 48, Options{ASCII: true, Player: p})
	if head := strings.Split(screen(m), "\n")[0]; !strings.Contains(head, "|| x2") {
		t.Errorf("ASCII header: %q", head)
	}

	m = newTestModel(newMemData(5), 160, 48, Options{})
	press(t, m, "P", "+", "]")
	if head := strings.Split(screen(m), "\n")[0]; strings.Contains(head, " x1") || strings.Contains(head, "▶") {
		t.Errorf("header without a player: %q", head)
	}
}

// The tls counter's legend says why connections were not decrypted.
func TestTLSLegendReasons(t *testing.T) {
	d := newMemData(5)
	d.counters.TLSStreams = 2
	d.counters.TLSReasons = "no key 2"
	m := newTestModel(d, 160, 48, Options{})
	press(t, m, "H")
	for range 10 {
		if strings.HasPrefix(strings.Split(screen(m), "\n")[1], " tls ") {
			break
		}
		press(t, m, "right")
	}
	if l := strings.Split(screen(m), "\n")[1]; !strings.Contains(l, " tls 2: TCP directions carrying TLS") || !strings.Contains(l, "not decrypted: no key 2") {
		t.Errorf("tls legend: %q", l)
	}
}
