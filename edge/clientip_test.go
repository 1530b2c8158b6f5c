package edge

import (
	"net"
	"sync"
	"testing"
)

// TestIPTexts: the remembered text is always net.IP.String's, for the same address in either
// form, for addresses that collide in a slot, and from many goroutines at once.
func TestIPTexts(t *testing.T) {
	var c ipTexts
	ips := []net.IP{
		net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 1).To4(), net.ParseIP("192.0.2.10"),
		net.ParseIP("2001:db8::1"), net.ParseIP("::1"), net.ParseIP("::ffff:10.0.0.1"), nil,
	}
	for i := range 300 { // more addresses than slots: collisions
		ips = append(ips, net.IPv4(10, 1, byte(i>>8), byte(i)))
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				for _, ip := range ips {
					if got, want := c.text(ip), ip.String(); got != want {
						t.Errorf("text(%v) = %q, want %q", []byte(ip), got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if n := testing.AllocsPerRun(100, func() { c.text(ips[0]) }); n != 0 {
		t.Fatalf("a remembered address allocates %v times", n)
	}
}
