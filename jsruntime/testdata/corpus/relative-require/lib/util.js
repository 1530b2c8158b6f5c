module.exports = { lower: (s) => s.toLowerCase() };
