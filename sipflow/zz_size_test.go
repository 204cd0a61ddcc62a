package sipflow

import (
	"testing"
	"unsafe"
)

func TestZZSize(t *testing.T) {
	t.Logf("call %d summary %d storedMsg %d media %d neg %d", unsafe.Sizeof(call{}), unsafe.Sizeof(CallSummary{}), unsafe.Sizeof(storedMsg{}), unsafe.Sizeof(MediaSummary{}), unsafe.Sizeof(Negotiation{}))
}
