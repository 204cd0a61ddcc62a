package tui

import (
	"strconv"
	"time"

	"charm.land/bubbles/v2/key"
)

// Player is a capture played at its own pace (voiptool FILE --realtime):
// the UI shows its state in the header and hands it the playback keys.
// Its methods are called from Update and must not block.
type Player interface {
	PlayState() PlayState
	TogglePause()
	Faster()
	Slower()
	// Step releases records up to the next SIP message, then pauses.
	Step()
	// Seek jumps forward by d of capture time.
	Seek(d time.Duration)
}

// PlayState is what the header shows of a Player.
type PlayState struct {
	Paused, Stepping, Seeking bool
	Speed                     float64
	Clock                     time.Time // capture time of the last record played
}

// Seek steps of the playback keys.
const (
	seekShort = 10 * time.Second
	seekLong  = time.Minute
)

// playHeader is the header's playback field: state, speed and the
// capture clock, e.g. "▶ x2 09:26:53.510".
func (m *Model) playHeader() string {
	ps := m.player.PlayState()
	state := "▶"
	switch {
	case ps.Seeking:
		state = "»"
	case ps.Paused:
		state = "‖"
	}
	if m.c.g.ellipsis == "~" { // the ASCII glyph set
		state = map[string]string{"▶": ">", "»": ">>", "‖": "||"}[state]
	}
	s := " " + state + " x" + strconv.FormatFloat(ps.Speed, 'g', 3, 64)
	if !ps.Clock.IsZero() {
		s += " " + ps.Clock.In(m.c.loc).Format("15:04:05.000")
	}
	return s
}

// playbackKey handles the playback keys when a Player is set.
func (m *Model) playbackKey(k *KeyMap, matches func(key.Binding) bool) bool {
	if m.player == nil {
		return false
	}
	p := m.player
	switch {
	case matches(k.PlayPause):
		p.TogglePause()
		if p.PlayState().Paused {
			m.setStatus("playback paused ("+k.StepMessage.Help().Key+": next message)", nil)
		} else {
			m.setStatus("playing", nil)
		}
	case matches(k.Faster):
		p.Faster()
		m.setStatus("speed x"+strconv.FormatFloat(p.PlayState().Speed, 'g', 3, 64), nil)
	case matches(k.Slower):
		p.Slower()
		m.setStatus("speed x"+strconv.FormatFloat(p.PlayState().Speed, 'g', 3, 64), nil)
	case matches(k.StepMessage):
		p.Step()
		m.setStatus("to the next SIP message", nil)
	case matches(k.SeekForward):
		p.Seek(seekShort)
		m.setStatus("seeking 10 s ahead", nil)
	case matches(k.SeekForwardLong):
		p.Seek(seekLong)
		m.setStatus("seeking 1 min ahead", nil)
	default:
		return false
	}
	return true
}
