'use strict';
// Interop: the `drachtio-modesl` npm package (unmodified) against eventsocketd. See interop_suite.js.
require('./interop_suite').defineSuite('drachtio-modesl');
