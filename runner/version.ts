/** runner's version (package.json's; a test keeps them equal): `--version`, archives, inspect. */
export const RUNNER_VERSION = '0.1.0';
