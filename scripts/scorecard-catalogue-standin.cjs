// Preloaded (NODE_OPTIONS=--require) into `node-red-dev validate` by
// scripts/scorecard.mjs: its one request to the Flow Library catalogue is
// answered locally with an empty module list, so the scorecard runs where
// only the npm registry is reachable (CI). Every other request (the npm
// registry: P06, P07, D02, D03) goes out as usual. With an empty catalogue,
// P08 and N01 only prove that nothing local is wrong.
'use strict';
const { dirname, join } = require('node:path');

const CATALOGUE_HOST = 'catalogue.nodered.org';
const devRoot = dirname(require.resolve('node-red-dev/package.json', { paths: [process.cwd(), __dirname] }));
// The axios instance node-red-dev itself loads (it may have its own copy).
const axios = require(require.resolve('axios', { paths: [join(devRoot, 'src')] }));

axios.interceptors.request.use((config) => {
  let host = '';
  try {
    host = new URL(config.url, config.baseURL).hostname;
  } catch {
    return config;
  }
  if (host === CATALOGUE_HOST) {
    config.adapter = async (c) => ({ data: { modules: [] }, status: 200, statusText: 'OK (local stand-in)', headers: {}, config: c, request: {} });
  }
  return config;
});
