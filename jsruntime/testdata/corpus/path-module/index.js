const path = require('path');
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const uri = '/assets/../img/./hero.large.jpg';
  console.log(path.normalize(uri), path.basename(uri), path.basename(uri, '.jpg'), path.extname(uri), path.dirname(uri));
  console.log(path.join('/a', 'b', '../c', 'd/'), path.resolve('/x', 'y', '..', 'z'), path.relative('/a/b/c', '/a/d'));
  console.log(path.parse('/home/user/file.txt'), path.isAbsolute('rel/x'), path.sep);
  request.uri = path.normalize(uri);
  return request;
};
