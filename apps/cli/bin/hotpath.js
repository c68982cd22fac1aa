#!/usr/bin/env node
'use strict';
// The CLI is compiled TypeScript; `npm ci` builds it through the root `prepare` script.
require('../dist/main.js');
