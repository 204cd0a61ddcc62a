package agequeue

import (
	"math/rand/v2"
	"testing"
)

// model is the queue as a plain list: Pop finds the least due by a walk.
type model []Item[int]

func (m *model) pop() (int64, bool) {
	if len(*m) == 0 {
		return 0, false
	}
	best := 0
	for i, it := range *m {
		if it.Due < (*m)[best].Due {
			best = i
		}
	}
	return (*m)[best].Due, true
}

// remove drops the item with value v, which must be due at due.
func (m *model) remove(t *testing.T, v int, due int64) {
	for i, it := range *m {
		if it.Val == v {
			if it.Due != due {
				t.Fatalf("item %d came out due %d, pushed due %d", v, due, it.Due)
			}
			*m = append((*m)[:i], (*m)[i+1:]...)
			return
		}
	}
	t.Fatalf("item %d came out, not queued", v)
}

// FuzzQueue: whatever mix of pushes (mostly in time order, some back in
// time, ties), pops and compactions, the queue gives back exactly the
// items the list holds, each time one due first.
func FuzzQueue(f *testing.F) {
	f.Add([]byte{0, 5, 0, 3, 1, 0, 0, 0, 1, 1, 1, 2, 1})
	f.Add([]byte{0, 200, 0, 10, 2, 0, 0, 7, 1, 1, 0, 0, 3, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var q Queue[int]
		var m model
		var now int64
		next := 0
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%4, ops[i+1]
			switch op {
			case 0: // push at now plus a step, or back in time
				if arg >= 200 {
					now -= int64(arg - 200)
				} else {
					now += int64(arg % 4)
				}
				q.Push(next, now)
				m = append(m, Item[int]{next, now})
				next++
			case 1:
				want, wok := m.pop()
				pk, pok := q.Peek()
				it, ok := q.Pop()
				if ok != wok || pok != ok || pk != it {
					t.Fatalf("op %d: pop %v %v, peek %v %v, list has %v", i/2, it, ok, pk, pok, wok)
				}
				if !ok {
					continue
				}
				if it.Due != want {
					t.Fatalf("op %d: popped due %d, least is %d", i/2, it.Due, want)
				}
				m.remove(t, it.Val, it.Due)
			case 2: // compact away the values divisible by arg
				d := int(arg%5) + 2
				q.Compact(func(v int) bool { return v%d != 0 })
				k := m[:0]
				for _, it := range m {
					if it.Val%d != 0 {
						k = append(k, it)
					}
				}
				m = k
			case 3:
				now += int64(arg) * 1000
			}
			if q.Len() != len(m) {
				t.Fatalf("op %d: queue holds %d, list %d", i/2, q.Len(), len(m))
			}
		}
		for len(m) > 0 {
			want, _ := m.pop()
			it, ok := q.Pop()
			if !ok || it.Due != want {
				t.Fatalf("drain: popped %v %v, least is %d", it, ok, want)
			}
			m.remove(t, it.Val, it.Due)
		}
		if _, ok := q.Pop(); ok {
			t.Fatal("drained queue pops")
		}
	})
}

// Items due at the same time in the ring come out in the order pushed.
func TestQueueTiesFIFO(t *testing.T) {
	var q Queue[int]
	for i := range 100 {
		q.Push(i, int64(i/10))
	}
	for i := range 100 {
		if it, _ := q.Pop(); it.Val != i {
			t.Fatalf("pop %d = %d", i, it.Val)
		}
	}
}

// A random long run against the list, with more items than the ring's
// first size, so it wraps and grows with items queued.
func TestQueueRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var q Queue[int]
	var m model
	var now int64
	for i := range 20000 {
		switch n := r.IntN(10); {
		case n < 5:
			if r.IntN(20) == 0 {
				now -= r.Int64N(50)
			} else {
				now += r.Int64N(3)
			}
			q.Push(i, now)
			m = append(m, Item[int]{i, now})
		case n < 9:
			want, wok := m.pop()
			it, ok := q.Pop()
			if ok != wok || ok && it.Due != want {
				t.Fatalf("step %d: pop %v %v, least %d %v", i, it, ok, want, wok)
			}
			if ok {
				m.remove(t, it.Val, it.Due)
			}
		default:
			if r.IntN(50) == 0 {
				q.Compact(func(v int) bool { return v%3 != 0 })
				k := m[:0]
				for _, it := range m {
					if it.Val%3 != 0 {
						k = append(k, it)
					}
				}
				m = k
			}
		}
	}
}

// Once the ring and heap have grown to the size held, pushing and
// popping allocate nothing.
func TestQueueSteadyNoAlloc(t *testing.T) {
	var q Queue[int]
	now := int64(0)
	for i := range 1000 {
		q.Push(i, now)
		now++
	}
	q.Push(-1, 0) // one out of order: the heap has room for one
	q.Pop()
	n := testing.AllocsPerRun(1000, func() {
		q.Pop()
		q.Push(1, now)
		now++
		q.Push(2, now-5000) // back in time: via the heap
		q.Pop()
	})
	if n != 0 {
		t.Fatalf("allocs per push and pop = %v", n)
	}
}

func BenchmarkQueueInOrder(b *testing.B) {
	var q Queue[int32]
	for i := range 1 << 16 {
		q.Push(int32(i), int64(i))
	}
	b.ReportAllocs()
	now := int64(1 << 16)
	for b.Loop() {
		q.Pop()
		q.Push(1, now)
		now++
	}
}
