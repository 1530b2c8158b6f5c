exports.handler = async (event) => {
  console.log('forgot to return');
};
