package jsruntime_test

import (
	"context"
	"testing"

	"github.com/vergecdn/verge/jsruntime"
)

func TestESM(t *testing.T) {
	f, err := jsruntime.New(jsruntime.Options{Code: jsruntime.Code{Files: map[string]string{
		"index.mjs": `import crypto from 'crypto';
import { stringify as qs } from 'querystring';
import * as path from 'node:path';
import helper, { twice } from './lib.mjs';

export const handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.headers['x-esm'] = [{ key: 'X-Esm', value: [helper(), twice(2), qs({ a: 1 }), path.extname('a.js'), crypto.createHash('md5').update('').digest('hex').slice(0, 4)].join(' ') }];
  return request;
};`,
		"lib.mjs": `export default function helper() { return 'h'; }
export function twice(n) { return n * 2; }`,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := f.Invoke(context.Background(), loadEvent(t, "lambda-edge-viewer-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Request.Headers.Get("x-esm"), "h 4 a=1 .js d41d"; got != want {
		t.Fatalf("x-esm = %q, want %q", got, want)
	}
}
