package main

import (
	"net"
	"os"
)

// sdNotify tells systemd about the node's state ("READY=1", "RELOADING=1", "STOPPING=1") when
// it runs under a Type=notify unit, which sets NOTIFY_SOCKET; elsewhere it does nothing. A
// failure to notify is not the node's failure: systemd then times the start out and says so.
func sdNotify(state string) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return
	}
	if addr[0] == '@' { // an abstract socket
		addr = "\x00" + addr[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = conn.Write([]byte(state))
}
