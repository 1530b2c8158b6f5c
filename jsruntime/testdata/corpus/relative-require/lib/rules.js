const util = require('./util');
exports.rewrite = (uri) => util.lower(uri) + '.html';
