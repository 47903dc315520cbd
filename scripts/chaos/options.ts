/** The flags of `npm run chaos`. */
import { parseArgs } from "node:util";
import { randomSeed } from "./random.js";

export interface ChaosOptions {
  /** Imports sent through the API (one source URL each). */
  readonly imports: number;
  readonly seed: number;
  /** Imports per second the sender keeps to (the run's length is about imports / rate). */
  readonly rate: number;
  /** How long the pipeline may take to settle after the last import was sent. */
  readonly settleTimeoutMs: number;
}

export const CHAOS_DEFAULTS = { imports: 10_000, rate: 10, settleTimeoutS: 3600 } as const;

export const CHAOS_USAGE = `usage: npm run chaos -- [--imports N] [--seed N] [--rate N] [--settle-timeout S]
  --imports N          imports sent through the API, one source URL each (default ${CHAOS_DEFAULTS.imports})
  --seed N             seed of the fault schedule (default: a random one, printed)
  --rate N             imports per second (default ${CHAOS_DEFAULTS.rate})
  --settle-timeout S   seconds the pipeline may take to settle after the last import (default ${CHAOS_DEFAULTS.settleTimeoutS})`;

const positive = (name: string, raw: string | undefined, fallback: number, integer = true): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be a positive ${integer ? "integer" : "number"}, got "${raw}"`);
  return n;
};

export function parseChaosArgs(argv: readonly string[]): ChaosOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { imports: { type: "string" }, seed: { type: "string" }, rate: { type: "string" }, "settle-timeout": { type: "string" } },
    strict: true,
    allowPositionals: false,
  });
  const seed = values.seed === undefined ? randomSeed() : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got "${values.seed}"`);
  return {
    imports: positive("imports", values.imports, CHAOS_DEFAULTS.imports),
    seed,
    rate: positive("rate", values.rate, CHAOS_DEFAULTS.rate, false),
    settleTimeoutMs: positive("settle-timeout", values["settle-timeout"], CHAOS_DEFAULTS.settleTimeoutS, false) * 1000,
  };
}
