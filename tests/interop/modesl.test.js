'use strict';
// Interop: the `modesl` npm package (unmodified) against eventsocketd. See interop_suite.js
// (protocol) and calls_suite.js (calls on the simulated switch core).
require('./interop_suite').defineSuite('modesl');
require('./calls_suite').defineCallsSuite('modesl');
