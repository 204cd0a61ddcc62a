package rtpstats

// Len is the number of live streams tracked now (finished ones not
// counted).
func (t *Tracker) Len() int { return len(t.all) }
