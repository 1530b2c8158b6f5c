exports.handler = async (event) => {
  const b = Buffer.from('héllo wörld', 'utf8');
  console.log(b.length, Buffer.byteLength('héllo'), b.toString('hex'), b.toString('base64'), b.toString('base64url'));
  console.log(Buffer.from('aGVsbG8gd29ybGQ', 'base64').toString(), Buffer.from('aGVs bG8=\n', 'base64').toString());
  console.log(Buffer.from('68656c6c6f', 'hex').toString('latin1'), Buffer.concat([Buffer.from('a'), Buffer.from('bc')]).toString());
  console.log(b.slice(0, 5).toString(), Buffer.isBuffer(b), Buffer.isBuffer('x'), JSON.stringify(Buffer.from('hi')));
  console.log(Buffer.alloc(3, 'ab').toString(), Buffer.from([1, 2, 3]).readUInt16BE(1), b.indexOf('wö'));
  const enc = new TextEncoder().encode('€');
  console.log(enc, new TextDecoder().decode(enc), atob(btoa('ok')));
  return event.Records[0].cf.request;
};
