package tuiadapter

import (
	"time"

	"github.com/voiptool/voiptool/internal/playback"
	"github.com/voiptool/voiptool/tui"
)

// Player shows a playback.Player to the TUI (voiptool FILE --realtime).
func Player(p *playback.Player) tui.Player { return player{p} }

type player struct{ p *playback.Player }

func (a player) PlayState() tui.PlayState {
	s := a.p.Status()
	return tui.PlayState{Paused: s.Paused, Stepping: s.Stepping, Seeking: s.Seeking, Speed: s.Speed, Clock: s.Clock}
}
func (a player) TogglePause()         { a.p.TogglePause() }
func (a player) Faster()              { a.p.Faster() }
func (a player) Slower()              { a.p.Slower() }
func (a player) Step()                { a.p.Step() }
func (a player) Seek(d time.Duration) { a.p.Seek(d) }
