#!/usr/bin/env node
// Runs Merit's TypeScript sources directly (tsx), so `npx merit` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
