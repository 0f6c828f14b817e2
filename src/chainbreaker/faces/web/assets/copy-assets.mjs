// Copy the built browser files of the npm dependencies into ../static/vendor (gitignored), where the
// app serves them from /static/vendor/. Run by `make setup` after `npm ci`.
import { copyFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "vendor");
const files = {
  "htmx.min.js": "node_modules/htmx.org/dist/htmx.min.js",
  "echarts.min.js": "node_modules/echarts/dist/echarts.min.js",
  "cytoscape.min.js": "node_modules/cytoscape/dist/cytoscape.min.js",
};
mkdirSync(out, { recursive: true });
for (const [name, from] of Object.entries(files)) {
  const src = join(here, from);
  if (!existsSync(src)) {
    console.error(`missing ${from}: run npm ci in ${here}`);
    process.exit(1);
  }
  copyFileSync(src, join(out, name));
  console.log(`copied ${from} -> static/vendor/${name}`);
}
