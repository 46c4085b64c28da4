// The CLI's own error: a mistake in the command line, which exits 2 (server and runtime errors exit 1).
export class ConfigError extends Error {
  override name = "ConfigError";
}
