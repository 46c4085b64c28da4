// Copies the non-TypeScript files the server reads at run time (SQL migrations) into dist/.
import { cpSync, existsSync } from "node:fs";

for (const dir of ["storage/sqlite/migrations", "storage/postgres/migrations"]) {
  if (existsSync(`src/${dir}`)) cpSync(`src/${dir}`, `dist/${dir}`, { recursive: true });
}
