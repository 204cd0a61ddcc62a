package tui

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// Model is the root of the UI: a router that owns the views, the view
// stack (list → flow → streams…), a modal overlay (help, save, columns),
// the header counters and the status line. It holds view state only; all
// call data comes from Data snapshots.
type Model struct {
	c    *common
	tick time.Duration

	list    *listView
	stack   []view // stack[0] is the list; the last element has focus
	overlay view   // help, save or column picker; takes keys before the stack

	counters  Counters
	player    Player // nil unless playing a capture at its pace
	paused    bool
	status    string
	statusErr bool
	help      help.Model
	quitting  bool

	// legend is the header counter being explained on the line under
	// the header (1-based index into headerItems), 0 when none.
	legend int

	// saving is the save running as a command, nil when none.
	saving *saveJob
	// version is the last Versioned.Version seen by the tick.
	version     int64
	haveVersion bool
	// loadTicks counts the ticks since the last pull while loading.
	loadTicks int

	// tickCmd is the tick command, built once: an idle tick allocates
	// nothing.
	tickCmd tea.Cmd
	// done is closed when the UI quits or Run returns (stop): commands
	// that wait on something else (the end of a load) return then.
	done <-chan struct{}
	stop context.CancelFunc
	// frame is the last rendered view, drawn again only when dirty: the
	// runtime asks for View after every message, ticks included, and
	// an idle UI must not rebuild the same frame ten times a second.
	frame   tea.View
	dirty   bool
	renders int // frames rendered, for the idle test
}

var _ tea.Model = (*Model)(nil)

// saveJob is a save running as a command: Data.Save on a goroutine of
// the runtime, never inside Update. That goroutine stores progress; the
// UI goroutine reads it when it renders and owns the rest.
type saveJob struct {
	cancel    context.CancelFunc
	progress  atomic.Pointer[SaveProgress]
	from      *saveView // reopened with the error if the save fails
	cancelled bool      // Esc was pressed
}

// saveDoneMsg ends a save job.
type saveDoneMsg struct {
	job *saveJob
	msg string
	err error
}

// tickMsg drives the periodic snapshot pull. It carries nothing, so
// boxing it in a tea.Msg does not allocate.
type tickMsg struct{}

// loadedMsg says the Data's load is over (Loader): the last snapshot is
// pulled at once rather than at the next tick.
type loadedMsg struct{}

// New builds the root model. It does not start anything; Run or a test
// drives it.
func New(data Data, o Options) *Model {
	c := &common{
		st:   o.Styles,
		keys: o.Keys,
		g:    newGlyphs(o.ASCII),
		loc:  o.Location,
		data: data,
	}
	if c.st == nil {
		c.st = DefaultStyles()
	}
	if c.keys == nil {
		c.keys = DefaultKeyMap()
	}
	if c.loc == nil {
		c.loc = time.Local
	}
	m := &Model{c: c, tick: o.Tick, help: help.New(), dirty: true, player: o.Player}
	if m.tick <= 0 {
		m.tick = defaultTick
	}
	d := m.tick
	m.tickCmd = func() tea.Msg {
		time.Sleep(d) // on the runtime's command goroutine, never in Update
		return tickMsg{}
	}
	c.nav = m
	ctx, stop := context.WithCancel(context.Background())
	m.done, m.stop = ctx.Done(), stop
	if o.ASCII {
		// Box-drawing borders and the bullet separator are not ASCII either.
		st := *c.st
		st.Dialog = st.Dialog.Border(lipgloss.ASCIIBorder())
		c.st = &st
		m.help.ShortSeparator = " - "
		m.help.Ellipsis = "~"
	}
	m.help.Styles.ShortKey = c.st.Key
	m.help.Styles.ShortDesc = c.st.Status
	m.help.Styles.ShortSeparator = c.st.Status
	m.list = newListView(c, o)
	m.stack = []view{m.list}
	m.SetSize(80, 24)
	return m
}

// renderFPS is the renderer's frame rate.
const renderFPS = 30

// Run shows the UI on the terminal until the user quits or ctx is
// cancelled; both return nil.
func Run(ctx context.Context, data Data, o Options) error {
	if data == nil {
		return ErrNilData
	}
	m := New(data, o)
	// The renderer wakes at its frame rate even when the frame has not
	// changed; 30 Hz instead of the default 60 is still under a key
	// repeat's pace and halves what an idle UI costs (bench/tui-idle.sh:
	// about 0.9 % of a core at 60 Hz, 0.6 % at 30 Hz).
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithFPS(renderFPS)}
	if o.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	if o.Input != nil {
		opts = append(opts, tea.WithInput(o.Input))
	}
	if o.Output != nil {
		opts = append(opts, tea.WithOutput(o.Output))
	}
	defer m.stop() // a command still waiting on the load returns
	_, err := tea.NewProgram(m, opts...).Run()
	if err != nil && ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled) {
		return nil
	}
	return err
}

// Init pulls the first snapshot and starts the tick, and for a Loader
// the wait for the end of its load.
func (m *Model) Init() tea.Cmd {
	m.refresh()
	if l, ok := m.c.data.(Loader); ok {
		return tea.Batch(m.nextTick(), m.waitLoaded(l.Loaded()))
	}
	return m.nextTick()
}

// waitLoaded is a command that returns loadedMsg when the load is over,
// or nothing once the UI has quit.
func (m *Model) waitLoaded(loaded <-chan struct{}) tea.Cmd {
	done := m.done
	return func() tea.Msg {
		select {
		case <-loaded:
			return loadedMsg{}
		case <-done:
			return nil
		}
	}
}

func (m *Model) nextTick() tea.Cmd { return m.tickCmd }

// SetSize lays the views out for a w×h terminal.
func (m *Model) SetSize(w, h int) {
	m.dirty = true
	m.c.w, m.c.h = max(w, 20), max(h, 5)
	m.help.SetWidth(m.c.w)
	bw, bh := m.bodySize()
	for _, v := range m.stack {
		v.SetSize(bw, bh)
	}
	if m.overlay != nil {
		m.overlay.SetSize(bw, bh)
	}
}

// loading is true while a file source has not been read to the end.
func (m *Model) loading() bool {
	return m.counters.LoadTotal > 0 && m.counters.LoadDone < m.counters.LoadTotal
}

// bodySize is the area left to the focused view: the terminal minus the
// header, the progress line while loading, the counter legend while one
// is explained, and the status line.
func (m *Model) bodySize() (int, int) {
	return m.c.w, max(m.c.h-1-m.bodyTop(), 1)
}

func (m *Model) top() view { return m.stack[len(m.stack)-1] }

// refresh pulls counters and the focused view's snapshot; a change in
// loading state changes the body height, so it re-lays out first.
func (m *Model) refresh() {
	m.dirty = true
	was := m.loading()
	m.counters = m.c.data.Counters()
	if m.loading() != was {
		m.SetSize(m.c.w, m.c.h)
	}
	m.top().refresh()
	if m.overlay != nil {
		m.overlay.refresh()
	}
}

// Update routes messages: ticks refresh, size goes to every view, keys and
// mouse go to the overlay if any, else to the focused view, after the few
// global keys.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, ok := msg.(tickMsg); !ok {
		// Anything but a tick may change the frame; a tick changes it only
		// when it pulls a snapshot or a save is reporting progress.
		m.dirty = true
	}
	switch msg := msg.(type) {
	case tickMsg:
		if !m.paused && m.pullDue() {
			m.refresh()
			m.dirty = true
		}
		if m.saving != nil {
			m.dirty = true
		}
		return m, m.nextTick()
	case loadedMsg:
		// The tick would see it too, up to a tick later; a paused view
		// stays as it is until unpaused.
		if !m.paused {
			m.refresh()
		}
		return m, nil
	case saveDoneMsg:
		m.finishSave(msg)
		return m, nil
	case tea.WindowSizeMsg:
		m.SetSize(msg.Width, msg.Height)
		m.top().refresh()
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.MouseMsg:
		// The body starts below the header (and progress line); views get
		// coordinates relative to their own origin.
		mm := msg.Mouse()
		if _, ok := msg.(tea.MouseClickMsg); ok && mm.Y == 0 {
			m.clickHeader(mm.X)
			return m, nil
		}
		mm.Y -= m.bodyTop()
		var target view = m.top()
		if m.overlay != nil {
			target = m.overlay
		}
		switch msg.(type) {
		case tea.MouseWheelMsg:
			return m, target.Update(tea.MouseWheelMsg(mm))
		case tea.MouseClickMsg:
			return m, target.Update(tea.MouseClickMsg(mm))
		}
		return m, nil
	}
	if m.overlay != nil {
		return m, m.overlay.Update(msg)
	}
	return m, m.top().Update(msg)
}

// bodyTop is the first screen row of the body: below the header and, while
// loading, the progress line, and the legend line.
func (m *Model) bodyTop() int {
	n := 1
	if m.loading() {
		n++
	}
	if m.legend > 0 {
		n++
	}
	return n
}

// loadPullTicks is how many ticks apart a loading file is pulled and
// drawn: about 3 Hz at the default tick. A frame of the 160x48 list
// costs some 3 ms of CPU (View, then the renderer's parse and diff of
// it), taken from a load that keeps both cores busy; the user reads a
// progress bar and a growing list as well at 3 Hz as at 10.
const loadPullTicks = 3

// pullDue says whether this tick pulls a snapshot. While a file loads,
// every loadPullTicks-th tick does, whether or not the Version moved
// (the progress bar must reach the end even if the last bytes read
// changed nothing; a Loader's end is seen at once anyway). Playback
// (--realtime) is pulled every tick: calls appear as they happened.
// Otherwise a tick pulls when the Version moved.
func (m *Model) pullDue() bool {
	if m.loading() && m.player == nil {
		if m.loadTicks++; m.loadTicks < loadPullTicks {
			return false
		}
		m.loadTicks = 0
		m.changed() // records the Version pulled
		return true
	}
	return m.changed() || m.loading()
}

// changed reports whether the Data may have changed since the last
// tick, for a Data that can tell (Versioned); others are always pulled.
func (m *Model) changed() bool {
	vd, ok := m.c.data.(Versioned)
	if !ok {
		return true
	}
	v := vd.Version()
	if m.haveVersion && v == m.version {
		return false
	}
	m.version, m.haveVersion = v, true
	return true
}

func (m *Model) quit() tea.Cmd {
	if m.saving != nil {
		m.saving.cancel()
	}
	m.stop()
	m.quitting = true
	return tea.Quit
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	if key.Matches(msg, k.Quit) {
		return m.quit()
	}
	if m.saving != nil && msg.String() == "esc" {
		// While a save runs, Esc cancels it (the progress line says so)
		// before it does anything else.
		m.saving.cancel()
		m.saving.cancelled = true
		return nil
	}
	if m.overlay != nil {
		return m.overlay.Update(msg)
	}
	top := m.top()
	if top.capturing() {
		return top.Update(msg)
	}
	m.status, m.statusErr = "", false
	if m.legend > 0 {
		if m.legendKey(msg) {
			return nil
		}
	} else if key.Matches(msg, k.Legend) {
		m.setLegend(1)
		return nil
	}
	if m.playbackKey(k, func(b key.Binding) bool { return key.Matches(msg, b) }) {
		return nil
	}
	switch {
	case key.Matches(msg, k.Help):
		m.setOverlay(newHelpView(m.c))
		return nil
	case key.Matches(msg, k.TimeMode):
		m.c.timeMode = (m.c.timeMode + 1) % numTimeModes
		m.list.want.want[ColStart] = 0 // measured again at the new precision
		m.list.measure()
		m.SetSize(m.c.w, m.c.h) // the ladder's time column changes width
		m.top().refresh()
		m.setStatus("times: "+m.c.timeMode.String(), nil)
		return nil
	case key.Matches(msg, k.Pause):
		m.paused = !m.paused
		if !m.paused {
			m.refresh()
		}
		return nil
	case key.Matches(msg, k.Stats):
		if _, ok := top.(*statsView); !ok {
			m.openStats()
			return nil
		}
	case key.Matches(msg, k.Back) && len(m.stack) == 1 && msg.String() == "q":
		return m.quit()
	}
	return top.Update(msg)
}

func (m *Model) setOverlay(v view) {
	m.overlay = v
	if v != nil {
		v.SetSize(m.bodySize())
		v.refresh()
	}
}

// push focuses v. A view of a kind already on the stack replaces that one
// and everything above it, so flow → streams → flow → … cannot grow the
// stack without bound and q always leads back toward the list.
func (m *Model) push(v view) {
	for i := 1; i < len(m.stack); i++ {
		if sameKind(m.stack[i], v) {
			m.stack = m.stack[:i]
			break
		}
	}
	v.SetSize(m.bodySize())
	m.stack = append(m.stack, v)
	v.refresh()
}

func sameKind(a, b view) bool {
	switch a.(type) {
	case *flowView:
		_, ok := b.(*flowView)
		return ok
	case *streamsView:
		_, ok := b.(*streamsView)
		return ok
	case *statsView:
		_, ok := b.(*statsView)
		return ok
	}
	return false
}

// navigator implementation.

func (m *Model) openFlow(ids []string, related bool) {
	if len(ids) == 0 {
		m.setStatus("", errNoCall)
		return
	}
	m.push(newFlowView(m.c, ids, related))
}

func (m *Model) openStreams(ids []string) {
	if len(ids) == 0 {
		m.setStatus("", errNoCall)
		return
	}
	m.push(newStreamsView(m.c, ids))
}

func (m *Model) openStats() { m.push(newStatsView(m.c)) }

func (m *Model) openSave(ids []string, related, flow bool) {
	m.setOverlay(newSaveView(m.c, ids, related, flow))
}

func (m *Model) openOverlay(v view) { m.setOverlay(v) }

// startSave runs req as a command with a cancellable context; the
// progress line replaces the status line until saveDoneMsg arrives.
func (m *Model) startSave(req SaveRequest, from *saveView) tea.Cmd {
	if m.saving != nil {
		from.err = errSaveRunning
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	job := &saveJob{cancel: cancel, from: from}
	job.progress.Store(&SaveProgress{TotalCalls: len(req.CallIDs)})
	m.saving = job
	if m.overlay == from {
		m.overlay = nil
	}
	data := m.c.data
	return func() tea.Msg {
		msg, err := data.Save(ctx, req, func(p SaveProgress) { job.progress.Store(&p) })
		return saveDoneMsg{job: job, msg: msg, err: err}
	}
}

// finishSave shows how a save ended: its message, "cancelled", or the
// error in the reopened dialog (in the status line if another overlay
// has been opened meanwhile).
func (m *Model) finishSave(msg saveDoneMsg) {
	if msg.job != m.saving {
		return
	}
	m.saving = nil
	msg.job.cancel()
	switch {
	case msg.err == nil:
		m.setStatus(msg.msg, nil)
	case msg.job.cancelled && errors.Is(msg.err, context.Canceled):
		m.setStatus("save cancelled; nothing written", nil)
	case m.overlay == nil:
		msg.job.from.err = msg.err
		m.setOverlay(msg.job.from)
	default:
		m.setStatus("", msg.err)
	}
}

// back closes the overlay, else pops the stack; the list is never popped.
func (m *Model) back() {
	if m.overlay != nil {
		m.overlay = nil
		return
	}
	if len(m.stack) > 1 {
		m.stack = m.stack[:len(m.stack)-1]
		m.top().SetSize(m.bodySize())
		m.top().refresh()
	}
}

func (m *Model) setStatus(s string, err error) {
	if err != nil {
		m.status, m.statusErr = err.Error(), true
		return
	}
	m.status, m.statusErr = s, false
}

func (m *Model) listQuery() Query { return m.list.query() }

// View renders header, body and status line at exactly the terminal
// size; when nothing changed since the last frame it returns that frame
// (the same string, which the renderer compares by pointer first).
func (m *Model) View() tea.View {
	if !m.dirty {
		return m.frame
	}
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "voiptool"
	m.frame, m.dirty = v, false
	return v
}

func (m *Model) render() string {
	m.renders++
	if m.quitting {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.header())
	b.WriteByte('\n')
	if m.legend > 0 {
		b.WriteString(m.legendLine())
		b.WriteByte('\n')
	}
	if m.loading() {
		b.WriteString(m.progress())
		b.WriteByte('\n')
	}
	if m.overlay != nil {
		b.WriteString(m.overlay.View())
	} else {
		b.WriteString(m.top().View())
	}
	b.WriteByte('\n')
	b.WriteString(m.statusLine())
	return b.String()
}

// headerCounter is one figure of the header line and what it means, for
// the legend line and the help overlay.
type headerCounter struct {
	key, help string
}

// headerCounters are the header's figures in order; tls is shown only
// when there is some.
var headerCounters = [...]headerCounter{
	{"dlg", "dialogs held in the call store, one per Call-ID"},
	{"calls", "of the dialogs, those started by INVITE"},
	{"pkts", "capture records read (packets, HEP messages)"},
	{"err", "records that could not be decoded (truncated, malformed)"},
	{"drop", "lost: kernel and queue drops, evicted calls, refused streams, fragments, TCP holes"},
	{"skip", "records that are not VoIP (other traffic, SIP without a Call-ID)"},
	{"tls", "TCP directions carrying TLS: encrypted SIP that cannot be shown"},
	{"mem", "memory held by the call store"},
}

// headerItems are the counters on the header now, as indexes into
// headerCounters, with their values.
func (m *Model) headerItems() (idx []int, vals []string) {
	c := m.counters
	for i, hc := range headerCounters {
		var v string
		switch hc.key {
		case "dlg":
			v = itoa64(c.Dialogs)
		case "calls":
			v = itoa64(c.Calls)
		case "pkts":
			v = itoa64(c.Packets)
		case "err":
			v = itoa64(c.DecodeErrors)
		case "drop":
			v = itoa64(c.Dropped)
		case "skip":
			v = itoa64(c.Skipped)
		case "tls":
			if c.TLSStreams == 0 {
				continue
			}
			v = itoa64(c.TLSStreams)
		case "mem":
			v = fmtBytes(c.MemoryBytes)
		}
		idx, vals = append(idx, i), append(vals, v)
	}
	return idx, vals
}

// headerPrefix is the header up to the first counter.
func (m *Model) headerPrefix() string {
	name := m.top().name()
	if m.overlay != nil {
		name = m.overlay.name()
	}
	s := "voiptool " + m.c.g.vline + " " + name + " " + m.c.g.vline
	// Live and paused come first: they must survive truncation at 80 columns.
	if m.counters.Live {
		s += " LIVE"
	}
	if m.paused {
		s += " PAUSED"
	}
	if m.player != nil {
		s += m.playHeader()
	}
	return s
}

func (m *Model) header() string {
	st := m.c.st
	var b strings.Builder
	b.WriteString(st.Header.Render(m.headerPrefix()))
	idx, vals := m.headerItems()
	for i := range idx {
		b.WriteByte(' ')
		s := headerCounters[idx[i]].key + " " + vals[i]
		if i+1 == m.legend {
			b.WriteString(st.Cursor.Render(s))
		} else {
			b.WriteString(st.Header.Render(s))
		}
	}
	if f := m.counters.Forward; f != "" {
		b.WriteString(st.Header.Render(" " + f))
	}
	return fit(b.String(), m.c.w, m.c.g.ellipsis)
}

// legendLine explains the selected header counter.
func (m *Model) legendLine() string {
	idx, vals := m.headerItems()
	i := clamp(m.legend-1, 0, len(idx)-1)
	hc := headerCounters[idx[i]]
	k := m.c.keys
	head := " " + hc.key + " " + vals[i] + ": "
	room := m.c.w - ansi.StringWidth(head)
	// The explanation first; the key hint only where it fits beside it.
	hint := "  (" + k.Left.Help().Key + ", " + k.Right.Help().Key + ": other counters; esc: close)"
	text := hc.help
	if hc.key == "tls" && m.counters.TLSReasons != "" {
		text += "; not decrypted: " + m.counters.TLSReasons
	}
	if ansi.StringWidth(text)+ansi.StringWidth(hint) > room {
		hint = ""
	}
	return m.c.st.Key.Render(head) + fit(text, room-ansi.StringWidth(hint), m.c.g.ellipsis) + m.c.st.Status.Render(hint)
}

// setLegend shows the legend of the n-th header counter (1-based; 0
// hides it); the body loses or regains a line.
func (m *Model) setLegend(n int) {
	idx, _ := m.headerItems()
	if n > 0 {
		n = clamp(n, 1, len(idx))
	}
	if (n > 0) != (m.legend > 0) {
		m.legend = n
		m.SetSize(m.c.w, m.c.h)
		m.top().refresh()
		return
	}
	m.legend = n
}

// legendKey moves the legend between counters; a key that is not
// ours closes it, and is consumed only if it was a closing key.
func (m *Model) legendKey(msg tea.KeyPressMsg) bool {
	k := m.c.keys
	n, _ := m.headerItems()
	switch {
	case key.Matches(msg, k.Left), msg.String() == "shift+tab":
		m.setLegend((m.legend+len(n)-2)%len(n) + 1)
	case key.Matches(msg, k.Right), msg.String() == "tab":
		m.setLegend(m.legend%len(n) + 1)
	case key.Matches(msg, k.Legend), key.Matches(msg, k.Back), msg.String() == "enter":
		m.setLegend(0)
	default:
		m.setLegend(0)
		return false
	}
	return true
}

// clickHeader explains the counter under the mouse, or closes the
// legend when the click is on it again or beside the counters.
func (m *Model) clickHeader(x int) {
	x -= ansi.StringWidth(m.headerPrefix())
	idx, vals := m.headerItems()
	for i := range idx {
		w := 1 + len(headerCounters[idx[i]].key) + 1 + len(vals[i])
		if x >= 0 && x < w {
			if m.legend == i+1 {
				m.setLegend(0)
			} else {
				m.setLegend(i + 1)
			}
			return
		}
		x -= w
	}
	m.setLegend(0)
}

// progress is the loading bar: done/total bytes of the input.
func (m *Model) progress() string {
	c := m.counters
	pct := float64(c.LoadDone) / float64(c.LoadTotal)
	verb := " loading "
	if m.player != nil {
		verb = " played " // --realtime: the file is read as it plays
	}
	label := verb + strconv.Itoa(int(pct*100)) + "% (" + fmtBytes(c.LoadDone) + " / " + fmtBytes(c.LoadTotal) + ")"
	bw := max(m.c.w-len(label)-1, 0)
	fill := int(pct * float64(bw))
	return m.c.st.Bar.Render(strings.Repeat(m.c.g.barFull, fill)) +
		m.c.st.BarEmpty.Render(strings.Repeat(m.c.g.barEmpty, bw-fill)) + label
}

// saveLine is the progress of a running save, in place of the status
// line: calls gathered, then the second pass over the capture.
func (m *Model) saveLine() string {
	p := m.saving.progress.Load()
	dots := m.c.g.ellipsis
	if dots == "~" {
		dots = "..."
	}
	var s string
	switch {
	case m.saving.cancelled:
		s = "cancelling save" + dots
	case p.ReadTotal > 0:
		pct := int(100 * float64(min(p.Read, p.ReadTotal)) / float64(p.ReadTotal))
		s = "saving " + strconv.Itoa(p.TotalCalls) + " calls: re-reading the capture " + strconv.Itoa(pct) + "%" + dots + " Esc to cancel"
	default:
		s = "saving " + strconv.Itoa(p.Calls) + "/" + strconv.Itoa(p.TotalCalls) + " calls" + dots + " Esc to cancel"
	}
	return m.c.st.Status.Render(fit(s, m.c.w, m.c.g.ellipsis))
}

func (m *Model) statusLine() string {
	if m.saving != nil {
		return m.saveLine()
	}
	if m.status != "" {
		st := m.c.st.Status
		if m.statusErr {
			st = m.c.st.StatusErr
		}
		return st.Render(fit(m.status, m.c.w, m.c.g.ellipsis))
	}
	var target view = m.top()
	if m.overlay != nil {
		target = m.overlay
	}
	// ShortHelpView trims only whole items that do not fit; cut the rest.
	return ansi.Truncate(m.help.ShortHelpView(target.shortHelp()), m.c.w, m.c.g.ellipsis)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
