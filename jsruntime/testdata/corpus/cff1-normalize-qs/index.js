function handler(event) {
  var request = event.request;
  var qs = [];
  for (var key in request.querystring) {
    var entry = request.querystring[key];
    var values = entry.multiValue ? entry.multiValue : [entry];
    for (var i = 0; i < values.length; i++) {
      if (key.indexOf('utm_') === 0) continue;
      qs.push(key.toLowerCase() + '=' + values[i].value);
    }
  }
  qs.sort();
  request.querystring = qs.join('&');
  return request;
}
