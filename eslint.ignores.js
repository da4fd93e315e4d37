module.exports = ['build/', 'node_modules/', '.local/'];
