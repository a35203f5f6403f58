import { fileURLToPath } from 'node:url';
import express, { type RequestHandler } from 'express';
import { sendLifecycleScript } from './lifecycle-script.js';

/** The console's files: src/console/public, copied beside this module by `nest build`. */
export const CONSOLE_FILES = fileURLToPath(new URL('./public', import.meta.url));

/**
 * Serves the console's page, styles and ES modules at /console. They are public: a browser
 * cannot send a bearer token when it opens a page, and the files hold no data; every request the
 * page makes for data goes through the API with the token the operator pasted.
 *
 * The file names carry no content hash, so browsers keep them but ask again each time
 * (`no-cache`): the ETag and Last-Modified express sends make that a 304 when nothing changed,
 * and a new build is never mixed with modules of the previous one.
 */
export function serveConsole(): RequestHandler {
  const router = express.Router();
  // The one file not on disk: the order lifecycle, written from the service's own definition.
  router.get('/js/lifecycle.js', sendLifecycleScript);
  router.use(
    express.static(CONSOLE_FILES, {
      index: 'index.html',
      fallthrough: true,
      setHeaders: (response) => {
        response.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  return router;
}
