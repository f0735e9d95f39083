#!/usr/bin/env node
// Every package's prepublishOnly: only pnpm may publish (`pnpm changeset publish`). pnpm rewrites
// the workspace: and catalog: specifiers into versions as it packs; npm would ship them verbatim
// and the published package could not be installed.
if (!/^pnpm\//.test(process.env.npm_config_user_agent ?? '')) {
  console.error(
    'Publish with pnpm (npx pnpm@12.21.0 changeset publish, see the root README): npm would ship the workspace: and catalog: specifiers verbatim.',
  );
  process.exit(1);
}
