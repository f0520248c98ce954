import { defineConfig } from 'tsup';

// Entries, format and target come from the build script's flags; this keeps the `node:` prefix of
// built-in imports in the output (tsup strips it by default).
export default defineConfig({ removeNodeProtocol: false });
