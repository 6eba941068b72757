#!/usr/bin/env node
// The CLI. In a checkout it runs the TypeScript sources (tsx compiles them on load, so `npx
// statearb` works right after `npm ci`); installed as a package it runs the built JavaScript —
// the one copy a user's strategy module gets when it imports 'statearb'. tsx is registered
// either way: users' strategy modules may be TypeScript.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const checkout = existsSync(new URL('../tsconfig.json', import.meta.url));
await import(checkout ? '../src/cli/main.ts' : '../dist/src/cli/main.js');
