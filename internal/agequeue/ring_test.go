package agequeue

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The ring holds what a slice used as a FIFO holds, through pushes, pops
// and filters, as it wraps and grows.
func TestRingMatchesSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ring Ring[int]
	var want []int
	for i := range 50000 {
		switch n := r.IntN(20); {
		case n < 10:
			ring.Push(i)
			want = append(want, i)
		case n < 19:
			if len(want) == 0 {
				continue
			}
			if f := ring.Front(); f != want[0] {
				t.Fatalf("step %d: front %d, want %d", i, f, want[0])
			}
			if v := ring.Pop(); v != want[0] {
				t.Fatalf("step %d: popped %d, want %d", i, v, want[0])
			}
			want = want[1:]
		default:
			d := r.IntN(4) + 2
			var called []int
			ring.Filter(func(v int) bool { called = append(called, v); return v%d != 0 })
			if !slices.Equal(called, want) {
				t.Fatalf("step %d: Filter visited %v, held %v", i, called, want)
			}
			want = slices.DeleteFunc(want, func(v int) bool { return v%d == 0 })
		}
		if ring.Len() != len(want) {
			t.Fatalf("step %d: ring holds %d, want %d", i, ring.Len(), len(want))
		}
		if len(want) > 0 && ring.Back() != want[len(want)-1] {
			t.Fatalf("step %d: back %d, want %d", i, ring.Back(), want[len(want)-1])
		}
	}
	for i, v := range want {
		if ring.At(i) != v {
			t.Fatalf("At(%d) = %d, want %d", i, ring.At(i), v)
		}
	}
}

// Popped and filtered slots no longer hold what they pointed to.
func TestRingDropsPointers(t *testing.T) {
	var ring Ring[*int]
	for range 10 {
		ring.Push(new(int))
	}
	ring.Pop()
	ring.Filter(func(p *int) bool { return false })
	for i, p := range ring.buf {
		if p != nil {
			t.Fatalf("slot %d still points", i)
		}
	}
}

func TestRingSteadyNoAlloc(t *testing.T) {
	var ring Ring[int]
	for i := range 100 {
		ring.Push(i)
	}
	if n := testing.AllocsPerRun(1000, func() { ring.Push(ring.Pop()) }); n != 0 {
		t.Fatalf("allocs per push and pop = %v", n)
	}
}
