/**
 * `--json` means one thing in every `hotpath` command: print the machine-readable result to
 * stdout. Commands that also write a report file take `--out FILE`. Before that, `hotpath bench …`
 * and `hotpath models eval` took `--json FILE`; that form still works, with a warning.
 *
 * Rewrites `--json FILE` / `--json=FILE` (FILE being the next argument when it is not a flag) to
 * `--out FILE` and calls `warn` once with the deprecation notice. Other arguments pass unchanged.
 */
export function acceptLegacyJsonFile(
  argv: readonly string[],
  command: string,
  warn: (line: string) => void,
): string[] {
  const out: string[] = [];
  let legacy: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = argv[i + 1];
    if (a === '--json' && next !== undefined && !next.startsWith('-')) {
      out.push('--out', next);
      legacy = next;
      i++;
    } else if (a.startsWith('--json=')) {
      legacy = a.slice('--json='.length);
      out.push(`--out=${legacy}`);
    } else {
      out.push(a);
    }
  }
  if (legacy !== undefined)
    warn(
      `hotpath ${command}: "--json ${legacy}" is deprecated; use "--out ${legacy}" to write the report ` +
        'to a file ("--json" alone prints it to stdout)',
    );
  return out;
}
