package jsruntime_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/vergecdn/verge/jsruntime"
)

// TestCFFResponseCookieAttributes checks that a response cookie keeps its attributes next to
// multiValue: each multiValue entry writes its own, and with multiValue untouched, a change to
// the cookie's value or attributes replaces the first line's, as for headers (section f).
func TestCFFResponseCookieAttributes(t *testing.T) {
	const exp1 = "Secure; Path=/; Domain=example.com; Expires=Wed, 05 Apr 2021 07:28:00 GMT"
	const exp2 = "Path=/cat; Domain=example.com; Expires=Wed, 10 Jan 2021 07:28:00 GMT"
	for name, tt := range map[string]struct {
		src  string
		want []string
	}{
		"untouched": {``, []string{"ID=id1234; Expires=Wed, 05 Apr 2021 07:28:00 GMT", "Cookie1=val1; " + exp1, "Cookie1=val2; " + exp2}},
		"attributes changed": {`c.Cookie1.attributes = 'Path=/new'`,
			[]string{"ID=id1234; Expires=Wed, 05 Apr 2021 07:28:00 GMT", "Cookie1=val1; Path=/new", "Cookie1=val2; " + exp2}},
		"value changed": {`c.Cookie1.value = 'v9'`,
			[]string{"ID=id1234; Expires=Wed, 05 Apr 2021 07:28:00 GMT", "Cookie1=v9; " + exp1, "Cookie1=val2; " + exp2}},
		"new with multiValue": {`event.response.cookies = {n: {value: 'x', attributes: 'HttpOnly', multiValue: [{value: 'x'}, {value: 'y', attributes: 'Secure'}]}}`,
			[]string{"n=x; HttpOnly", "n=y; Secure"}},
		"multiValue edited": {`c.Cookie1.multiValue = [{value: 'a', attributes: 'Path=/a'}, {value: 'b'}]; delete c.ID`,
			[]string{"Cookie1=a; Path=/a", "Cookie1=b"}},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := jsruntime.New(jsruntime.Options{Runtime: jsruntime.RuntimeCloudFrontJS2,
				Code: jsruntime.SingleFile(`function handler(event) { var c = event.response.cookies; ` + tt.src + `; return event.response }`)})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := f.Invoke(context.Background(), cffRequest(t, "viewer-response"))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Response.Headers.Values("set-cookie"); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("set-cookie:\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}
