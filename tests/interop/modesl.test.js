'use strict';
// Interop: the `modesl` npm package (unmodified) against eventsocketd. See interop_suite.js
// (protocol), calls_suite.js (calls on the simulated switch core) and outbound_suite.js
// (the socket application connecting out to the library's esl.Server).
require('./interop_suite').defineSuite('modesl');
require('./calls_suite').defineCallsSuite('modesl');
require('./outbound_suite').defineOutboundSuite('modesl');
