package cluster

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// faultTransport wraps a transport and, while isolated, drops every packet in and out and
// refuses every stream in and out: the node is cut off from the network.
type faultTransport struct {
	memberlist.NodeAwareTransport
	isolated atomic.Bool
	muted    atomic.Pointer[string] // packets (not streams) to this host:port are lost
	// stalled: every stream dial out hangs for its whole timeout, then fails, as a dial to a
	// host that drops packets (no RST) does.
	stalled atomic.Bool

	packets chan *memberlist.Packet
	streams chan net.Conn
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

var _ memberlist.NodeAwareTransport = (*faultTransport)(nil)

var (
	errIsolated = errors.New("fault: isolated")
	errStalled  = errors.New("fault: dial timed out")
)

func newFaultTransport(inner memberlist.NodeAwareTransport) *faultTransport {
	t := &faultTransport{
		NodeAwareTransport: inner,
		packets:            make(chan *memberlist.Packet),
		streams:            make(chan net.Conn),
		done:               make(chan struct{}),
	}
	t.wg.Add(2)
	go func() {
		defer t.wg.Done()
		for {
			select {
			case p := <-inner.PacketCh():
				if t.isolated.Load() {
					continue
				}
				select {
				case t.packets <- p:
				case <-t.done:
					return
				}
			case <-t.done:
				return
			}
		}
	}()
	go func() {
		defer t.wg.Done()
		for {
			select {
			case c := <-inner.StreamCh():
				if t.isolated.Load() {
					_ = c.Close()
					continue
				}
				select {
				case t.streams <- c:
				case <-t.done:
					_ = c.Close()
					return
				}
			case <-t.done:
				return
			}
		}
	}()
	return t
}

func (t *faultTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }
func (t *faultTransport) StreamCh() <-chan net.Conn           { return t.streams }

// lost reports whether a packet to addr is lost.
func (t *faultTransport) lost(addr string) bool {
	m := t.muted.Load()
	return t.isolated.Load() || (m != nil && *m == addr)
}

func (t *faultTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	if t.lost(addr) {
		return time.Now(), nil // a lost packet, as UDP would lose it
	}
	return t.NodeAwareTransport.WriteTo(b, addr)
}

func (t *faultTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if t.lost(a.Addr) {
		return time.Now(), nil
	}
	return t.NodeAwareTransport.WriteToAddress(b, a)
}

func (t *faultTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if t.isolated.Load() {
		return nil, errIsolated
	}
	return t.NodeAwareTransport.DialTimeout(addr, timeout)
}

func (t *faultTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if t.isolated.Load() {
		return nil, errIsolated
	}
	if t.stalled.Load() {
		time.Sleep(timeout)
		return nil, errStalled
	}
	return t.NodeAwareTransport.DialAddressTimeout(a, timeout)
}

func (t *faultTransport) Shutdown() error {
	err := t.NodeAwareTransport.Shutdown()
	t.once.Do(func() { close(t.done) })
	t.wg.Wait()
	return err
}
