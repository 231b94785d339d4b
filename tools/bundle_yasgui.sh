#!/usr/bin/env bash
# Re-bundle the YASGUI SPARQL editor into kg/static/yasgui/ for the offline web page of `diplograph serve`.
#
# It installs a pinned @zazuko/yasgui from the npm registry into a temporary folder, copies its prebuilt
# minified JS and CSS (they already contain CodeMirror, DataTables, jQuery and the other dependencies),
# drops the source-map reference (the map is not shipped), and writes THIRD-PARTY.txt with the licence
# of every package inside the bundle, and VERSION with the version and SHA-256 sums. Commit the result.
#
#   tools/bundle_yasgui.sh            # the pinned version
#   YASGUI_VERSION=4.6.2 tools/bundle_yasgui.sh
#
# Needs node and npm. Nothing is fetched at run time: the page works offline.
set -euo pipefail

VERSION="${YASGUI_VERSION:-4.6.2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/kg/static/yasgui"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts --loglevel=error "@zazuko/yasgui@$VERSION" >/dev/null
BUILD="$WORK/node_modules/@zazuko/yasgui/build"

mkdir -p "$DEST"
sed -e '/^\/\/# sourceMappingURL=/d' "$BUILD/yasgui.min.js" > "$DEST/yasgui.min.js"
sed -e 's#/\*\# sourceMappingURL=[^*]*\*/##' "$BUILD/yasgui.min.css" > "$DEST/yasgui.min.css"

node - "$WORK/node_modules" > "$DEST/THIRD-PARTY.txt" <<'JS'
const fs = require("fs"), path = require("path");
const root = process.argv[2];
const seen = [];
function visit(dir) {
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(".")) continue;
    const full = path.join(dir, name);
    if (name.startsWith("@")) { visit(full); continue; }
    const pkg = path.join(full, "package.json");
    if (fs.existsSync(pkg)) {
      const p = JSON.parse(fs.readFileSync(pkg, "utf8"));
      const lic = typeof p.license === "string" ? p.license : (p.license && p.license.type) || "see package";
      seen.push(`${p.name}@${p.version}\t${lic}`);
    }
  }
}
visit(root);
console.log("kg/static/yasgui bundles @zazuko/yasgui (MIT, https://github.com/zazuko/Yasgui, a fork of");
console.log("Triply's YASGUI) and the packages it depends on, as installed from the npm registry:\n");
console.log(seen.sort().join("\n"));
console.log("\nLicence texts: each package's own repository; MIT and Apache-2.0 require keeping these notices.");
JS

{
  echo "@zazuko/yasgui $VERSION"
  (cd "$DEST" && sha256sum yasgui.min.js yasgui.min.css)
} > "$DEST/VERSION"
ls -l "$DEST"
