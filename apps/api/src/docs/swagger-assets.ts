import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAbsoluteFSPath } from 'swagger-ui-dist';

/** The Swagger UI files the docs page uses, served from the installed package (no CDN). */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-16x16.png': 'image/png',
  'favicon-32x32.png': 'image/png',
};

/** A static file: its bytes and content type. */
export interface Asset {
  body: Buffer | string;
  type: string;
}

const cache = new Map<string, Asset>();

/** Reads (once) one of the allowed Swagger UI files; `undefined` for any other name. */
export function swaggerAsset(name: string): Asset | undefined {
  const type = ASSETS[name];
  if (type === undefined) return undefined;
  let asset = cache.get(name);
  if (!asset) {
    asset = { body: readFileSync(join(getAbsoluteFSPath(), name)), type };
    cache.set(name, asset);
  }
  return asset;
}

/** The initialiser, served as a file (not inline) so a strict Content-Security-Policy still works. */
export const SWAGGER_INIT_JS = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
`;

export const SWAGGER_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Hotpath API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/swagger-ui-standalone-preset.js"></script>
    <script src="/docs/swagger-initializer.js"></script>
  </body>
</html>
`;
