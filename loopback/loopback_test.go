package loopback

import "testing"

func TestAddr(t *testing.T) {
	for _, c := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8081", true}, {"127.0.0.2:1", true}, {"localhost:8081", true}, {"LocalHost.:1", true},
		{"[::1]:8081", true}, {"::1", true}, {"[::1]", true}, {"127.0.0.1", true}, {"localhost", true},
		{"::ffff:127.0.0.1", true},
		{":8081", false}, {"0.0.0.0:8081", false}, {"[::]:1", false}, {"10.1.2.3:8081", false},
		{"example.com:8081", false}, {"foo.localhost:1", false}, {"localhost.evil.example", false},
		{"", false}, {"bad", false}, {"[::2]:1", false},
	} {
		if got := Addr(c.addr); got != c.want {
			t.Errorf("Addr(%q) = %v, want %v", c.addr, got, c.want)
		}
	}
}
