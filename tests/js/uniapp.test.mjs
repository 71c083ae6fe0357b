// `import { AuthClient } from 'miniauth'` in a uni-app project (Vue 3,
// Vite; tests/js/fixtures/uniapp-app, its one line of config the package's
// Vite plugin) built for mp-weixin from the packed package, then run in the
// strict simulator with uni-app's runtime against the reference server
// (tests/js/support/framework-app.mjs).

import { join } from 'node:path';
import { describeFrameworkApp } from './support/framework-app.mjs';

describeFrameworkApp('uni-app (Vue 3, Vite; mp-weixin): the Mini Program build bundled, its module copied, a WeChat sign-in in the simulator', {
  fixture: 'uniapp-app',
  command: ['uni', 'build', '-p', 'mp-weixin'],
  output: join('dist', 'build', 'mp-weixin'),
  route: 'pages/index/index',
  registers: 'component',
});
