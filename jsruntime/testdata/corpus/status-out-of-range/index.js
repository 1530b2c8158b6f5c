exports.handler = async () => ({ status: '700', statusDescription: 'Nope' });
