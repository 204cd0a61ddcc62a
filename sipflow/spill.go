package sipflow

// releaseSpilled hands c's spilled messages back to the Spiller as the
// store drops c (evicted, cleared), so that the spill holds only what
// the store holds and its bound is not spent on calls long gone.
func (s *Store) releaseSpilled(c *call) {
	if s.opt.Spill == nil {
		return
	}
	for i := range c.extra {
		if x := &c.extra[i]; x.spill != 0 {
			s.opt.Spill.Release(x.spill, int(c.nOf(&c.msgs[x.msg])))
		}
	}
}
