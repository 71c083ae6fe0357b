// `import { AuthClient } from 'miniauth'` in a uni-app project (Vue 3,
// Vite; tests/js/fixtures/uniapp-app, its one line of config the package's
// Vite plugin) built for WeChat (mp-weixin) and for Douyin (mp-toutiao)
// from the packed package, then run in the strict simulator of that host
// with uni-app's runtime against the reference server
// (tests/js/support/framework-app.mjs).

import { join } from 'node:path';
import { describeFrameworkApp } from './support/framework-app.mjs';

for (const [platform, host] of [['mp-weixin', 'wechat'], ['mp-toutiao', 'douyin']]) {
  describeFrameworkApp(`uni-app (Vue 3, Vite; ${platform}): the Mini Program build bundled, its module copied, a ${host} sign-in in the simulator`, {
    fixture: 'uniapp-app',
    command: ['uni', 'build', '-p', platform],
    output: join('dist', 'build', platform),
    route: 'pages/index/index',
    registers: 'component',
    host,
  });
}
