// The adapter contract against a real Next.js app: test/fixture, built with `next build` and served
// with `next start` by test/global-setup.ts. The routes live in test/fixture/app; the route
// handlers are never called by hand.
import { inject } from 'vitest';
import { adapterContract } from '../../express/test/support/adapter-contract.js';

adapterContract('Next.js', async () => ({ url: inject('nextUrl'), close: async () => {} }));
