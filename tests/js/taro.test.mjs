// `import { AuthClient } from 'miniauth'` in a Taro 4 project (React,
// webpack 5; tests/js/fixtures/taro-app, its one line of config the
// package's Taro plugin) built for weapp from the packed package, then run in
// the strict simulator with Taro's runtime against the reference server
// (tests/js/support/framework-app.mjs).

import { describeFrameworkApp } from './support/framework-app.mjs';

describeFrameworkApp('Taro 4 (weapp): the Mini Program build bundled, its module copied, a WeChat sign-in in the simulator', {
  fixture: 'taro-app',
  command: ['taro', 'build', '--type', 'weapp'],
  output: 'dist',
  route: 'pages/index/index',
  registers: 'page',
});
