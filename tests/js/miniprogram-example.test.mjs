// examples/miniprogram in the strict simulator against the real reference
// server (WeChat-simulator mode, loopback), driven through its own page code
// (tests/js/support/miniprogram-example-flows.mjs), its npm laid out as
// WeChat DevTools' "Build npm" does: pkg/miniprogram_dist copied to
// miniprogram_npm/miniauth. tests/js/miniprogram-ci.test.mjs runs the same
// flows on the example as WeChat's miniprogram-ci builds it.

import { describeExample } from './support/miniprogram-example-flows.mjs';

describeExample('examples/miniprogram in the simulator against the reference server');
