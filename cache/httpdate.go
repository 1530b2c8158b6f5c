package cache

import (
	"strings"
	"time"
)

// parseHTTPDate parses an HTTP-date (RFC 9110 5.6.7) strictly, in any of the three formats a
// recipient must accept, and nothing else: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
// the obsolete RFC 850 form ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6
// 08:49:37 1994"). Whitespace around the value is ignored, and so is the case of the day and
// month names and of "GMT" (a lenience every browser has); an unknown day name, an impossible
// date or any other deviation fails, so that an Expires such as "0" or "tomorrow" means
// already expired (RFC 9111 5.3). An RFC 850 two-digit year is the latest year with those
// digits not more than 50 years after now (RFC 9110 5.6.7). The result is in UTC.
func parseHTTPDate(s string, now time.Time) (time.Time, bool) {
	s = strings.Trim(s, " \t")
	var (
		wday                        string
		day, mon, year, hh, mm, sec int
		ok                          bool
	)
	switch {
	case len(s) == 29 && s[3] == ',': // IMF-fixdate
		wday = s[:3]
		ok = s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' ' && strings.EqualFold(s[25:], " GMT")
		day, ok = digits(s[5:7], ok)
		mon, ok = month(s[8:11], ok)
		year, ok = digits(s[12:16], ok)
		hh, mm, sec, ok = clock(s[17:25], ok)
	case len(s) == 24 && s[3] == ' ': // asctime
		wday = s[:3]
		ok = s[7] == ' ' && s[10] == ' ' && s[19] == ' '
		mon, ok = month(s[4:7], ok)
		d := s[8:10]
		if d[0] == ' ' {
			d = d[1:]
		}
		day, ok = digits(d, ok)
		hh, mm, sec, ok = clock(s[11:19], ok)
		year, ok = digits(s[20:24], ok)
	default: // RFC 850: the day name is the only part of variable length
		comma := strings.IndexByte(s, ',')
		rest := s[comma+1:]
		if comma < 6 || len(rest) != 23 {
			return time.Time{}, false
		}
		wday = s[:comma]
		ok = rest[0] == ' ' && rest[3] == '-' && rest[7] == '-' && rest[10] == ' ' && strings.EqualFold(rest[19:], " GMT")
		day, ok = digits(rest[1:3], ok)
		mon, ok = month(rest[4:7], ok)
		year, ok = digits(rest[8:10], ok)
		hh, mm, sec, ok = clock(rest[11:19], ok)
		if ok {
			year += now.UTC().Year() / 100 * 100
			if year > now.UTC().Year()+50 {
				year -= 100
			}
		}
	}
	if !ok || day < 1 || hh > 23 || mm > 59 || sec > 60 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(mon), day, hh, mm, min(sec, 59), 0, time.UTC)
	if t.Day() != day { // 31 Feb: time.Date would roll it into March
		return time.Time{}, false
	}
	if !dayName(wday, len(wday) > 3) {
		return time.Time{}, false
	}
	return t, true
}

// dayName reports whether s names a day of the week, in full or in three letters. Whether it
// is the date's own day is not checked (no more than other caches do).
func dayName(s string, full bool) bool {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if name := d.String(); full && strings.EqualFold(s, name) || !full && strings.EqualFold(s, name[:3]) {
			return true
		}
	}
	return false
}

// digits parses a run of ASCII digits, when ok.
func digits(s string, ok bool) (int, bool) {
	if !ok || s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// month parses a three-letter month name, when ok. Any case: RFC 9110 writes them one way,
// but a lower-case "nov" in an Expires means November to every other cache and browser, and
// failing it would mean "already expired".
func month(s string, ok bool) (int, bool) {
	if ok {
		for i, m := range monthNames {
			if strings.EqualFold(s, m) {
				return i + 1, true
			}
		}
	}
	return 0, false
}

// clock parses "hh:mm:ss", when ok.
func clock(s string, ok bool) (hh, mm, ss int, _ bool) {
	if !ok || len(s) != 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, false
	}
	hh, ok = digits(s[:2], true)
	mm, ok = digits(s[3:5], ok)
	ss, ok = digits(s[6:], ok)
	return hh, mm, ss, ok
}
