/**
 * Duplicate keys in a JSON text. JSON.parse keeps the last of two equal keys without a word,
 * so a log line that carries `jobId` twice parses fine; this reads the raw text instead.
 * Returns the path of every repeated key (`jobId`, `err.type`), empty when there is none;
 * throws on text that is not JSON.
 */
export function duplicateKeys(text: string): string[] {
  let i = 0;
  const dups: string[] = [];
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`not JSON at ${i} (${what}): ${text.slice(Math.max(0, i - 20), i + 20)}`);
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (text[i] !== '"') fail("unterminated string");
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail("key");
        const key = str();
        const at = path ? `${path}.${key}` : key;
        if (seen.has(key)) dups.push(at);
        seen.add(key);
        ws();
        if (text[i++] !== ":") fail("colon");
        value(at);
        ws();
        const sep = text[i++];
        if (sep === "}") return;
        if (sep !== ",") fail("comma in object");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        ws();
        const sep = text[i++];
        if (sep === "]") return;
        if (sep !== ",") fail("comma in array");
      }
    }
    if (c === '"') return void str();
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 40));
    if (!m) fail("value");
    i += m![0].length;
  };
  value("");
  ws();
  if (i !== text.length) fail("trailing text");
  JSON.parse(text); // and it is JSON by the book
  return dups;
}
