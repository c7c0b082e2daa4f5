'use strict';
// Interop: the `modesl` npm package (unmodified) against eventsocketd. See interop_suite.js.
require('./interop_suite').defineSuite('modesl');
