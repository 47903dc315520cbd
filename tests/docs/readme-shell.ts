/**
 * Reading shell commands out of Markdown the way a reader copies them: the ```sh blocks of a
 * section, split into commands (a command goes on over `\` line ends and over open quotes),
 * comments apart, and the status a comment promises (`# -> 202 ...`, on the command's line or
 * on the comment line under it).
 */

export interface ShellCommand {
  /** The command without its comments, continuation lines kept: what bash runs. */
  readonly code: string;
  readonly comment: string;
  /** The HTTP status the README says the command answers with, if it says one. */
  expect?: number;
}

/**
 * From the heading that starts with `heading` to the next `## ` heading: for a `###` heading, its
 * own text and that of the `###` sections after it within the same `##` section.
 */
export function markdownSection(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) throw new Error(`no heading starting with "${heading}"`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

const PROMISE = /#\s*->\s*(\d{3})\b/;

export function shellCommands(block: string): ShellCommand[] {
  const out: ShellCommand[] = [];
  let code = "";
  let comment = "";
  let quote: "'" | '"' | undefined;
  for (const line of block.split("\n")) {
    if (code === "" && quote === undefined) {
      const t = line.trim();
      if (t === "") continue;
      if (t.startsWith("#")) {
        const promised = PROMISE.exec(t);
        const last = out.at(-1);
        if (promised && last && last.expect === undefined) last.expect = Number(promised[1]);
        continue;
      }
    }
    let lineCode = "";
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (quote === undefined && c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) {
        comment += line.slice(i);
        break;
      }
      if (c === "\\" && quote !== "'") {
        lineCode += c + (line[i + 1] ?? "");
        i++;
        continue;
      }
      if (quote === undefined && (c === "'" || c === '"')) quote = c;
      else if (c === quote) quote = undefined;
      lineCode += c;
    }
    code += (code === "" ? "" : "\n") + lineCode;
    if (quote !== undefined || /\\$/.test(lineCode)) continue;
    const promised = PROMISE.exec(comment);
    out.push({ code: code.trim(), comment, ...(promised ? { expect: Number(promised[1]) } : {}) });
    code = "";
    comment = "";
  }
  if (code !== "") throw new Error(`unterminated command (open quote or trailing backslash): ${code}`);
  return out;
}

/** `NAME=value` on its own: a variable the next commands use. */
export function isAssignment(code: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*=\S*$/.test(code);
}

/** The method and the first local URL of a curl command, placeholders kept: `GET :3000/v1/products/<id>`. */
export function requestOf(code: string): { method: string; port: number; path: string } | undefined {
  const url = /(?:localhost|127\.0\.0\.1):(\d+)((?:\/(?:<[^>]*>|[^\s'"<])*)*)/.exec(code);
  if (!url) return undefined;
  return { method: /-X\s+([A-Z]+)/.exec(code)?.[1] ?? "GET", port: Number(url[1]), path: url[2] || "/" };
}
