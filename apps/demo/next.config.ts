import type { NextConfig } from 'next';

// The Next.js app of the demo: the web page and its own chat and token routes (app/).
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
};

export default config;
