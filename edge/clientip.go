package edge

import (
	"encoding/binary"
	"net"
	"sync/atomic"
)

// ipTexts remembers the text of recent viewer addresses. A keep-alive connection sends many
// requests from one address, and formatting it anew (net.IP.String) was an allocation and 1%
// of a hit with a viewer-response function (bench/run.sh js). Slots are replaced, never
// locked: two addresses sharing a slot only cost a format each.
type ipTexts [64]atomic.Pointer[ipText]

type ipText struct {
	ip   [16]byte
	text string
}

// text returns ip as net.IP.String writes it.
func (t *ipTexts) text(ip net.IP) string {
	ip16 := ip.To16()
	if ip16 == nil {
		return ip.String()
	}
	k := [16]byte(ip16)
	h := (binary.LittleEndian.Uint64(k[:8]) ^ binary.LittleEndian.Uint64(k[8:])) * 0x9e3779b97f4a7c15
	slot := &t[h>>(64-6)]
	if e := slot.Load(); e != nil && e.ip == k {
		return e.text
	}
	s := ip.String()
	slot.Store(&ipText{ip: k, text: s})
	return s
}
