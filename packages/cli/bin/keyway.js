#!/usr/bin/env node
// The `keyway` command: runs the built CLI. A file of its own, so that a package manager can
// link the command whether or not the package is built yet (in this repository, install runs
// before the build).
import '../dist/cli.js'
