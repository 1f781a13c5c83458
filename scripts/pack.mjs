// npm run pack [-- --out DIR]: builds the two published packages, @edge-sessions/client
// (client/) and @edge-sessions/origin (origin/), as npm tarballs in DIR (default
// dist/packages/), and prints their paths.
//
// Each package is staged in a temporary directory first: its package.json, README.md and
// the files its `files` list names, plus the repository's two licence files, which live
// once at the root. `npm pack` runs there, so the tarball holds exactly what would be
// published (`npm publish dist/packages/<tarball>`). A package whose version is not the
// root's is refused: the worker, the packages and the changelog share one version.

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
export const PACKAGE_DIRS = ["client", "origin"];
const LICENCES = ["LICENSE-MIT", "LICENSE-APACHE"];

const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

/** Packs every package into `outDir`; resolves to `{ name, version, tarball }` per package. */
export function packAll(outDir = join(root, "dist", "packages")) {
  const version = readJson(join(root, "package.json")).version;
  mkdirSync(outDir, { recursive: true });
  return PACKAGE_DIRS.map((dir) => {
    const manifest = readJson(join(root, dir, "package.json"));
    if (manifest.version !== version)
      throw new Error(`${dir}/package.json has version ${manifest.version}; the repository's is ${version}`);
    const stage = mkdtempSync(join(tmpdir(), `edge-sessions-pack-${dir}-`));
    try {
      for (const file of ["package.json", "README.md", ...manifest.files]) {
        const from = LICENCES.includes(file) ? join(root, file) : join(root, dir, file);
        if (!existsSync(from)) throw new Error(`${dir}: ${file} is listed but missing`);
        cpSync(from, join(stage, file), { recursive: true });
      }
      const [packed] = JSON.parse(
        execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", outDir], {
          cwd: stage,
          encoding: "utf8",
          stdio: ["ignore", "pipe", "inherit"],
        }),
      );
      return { name: manifest.name, version, tarball: join(outDir, packed.filename) };
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--out");
  const outDir = i === -1 ? undefined : resolve(process.argv[i + 1]);
  for (const { tarball } of packAll(outDir)) console.log(tarball);
}
