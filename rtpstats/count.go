package rtpstats

// Len is the number of streams tracked now.
func (t *Tracker) Len() int { return len(t.streams) }
