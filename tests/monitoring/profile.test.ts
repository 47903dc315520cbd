/**
 * The local profile changes the time scale and nothing else: both renderings are parsed with
 * lezer-promql and their trees compared node by node, with every duration literal of the
 * production tree divided by the factor; names, labels, annotations and every other token must
 * be identical. The rendered local files pass promtool and amtool.
 */
import { join } from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { alertmanagerConfig } from "../../alerts/alertmanager.js";
import type { AlertmanagerRoute } from "../../alerts/alertmanager-types.js";
import { DURATION_NODE, LOCAL_PROFILE, durationMs, formatDuration, scaleAlertmanagerConfig, scaleDuration, scalePromql, scaleRuleGroups } from "../../alerts/profile.js";
import { ruleGroups, type Rule } from "../../alerts/rules/index.js";
import { ENVIRONMENTS, environment } from "../../model/environments.js";
import { run, tempDir, writeFiles } from "./helpers.js";

const F = LOCAL_PROFILE.factor;

interface Token {
  readonly type: string;
  /** Leaf text; for duration literals, the duration in ms. */
  readonly value: string | number;
}

/** The parse tree flattened in document order: every node's type, and the text of leaves. */
function tokens(expr: string): Token[] {
  const out: Token[] = [];
  parser.parse(expr).iterate({
    enter: (n) => {
      expect(n.type.isError, `syntax error in ${expr}`).toBe(false);
      const leaf = n.node.firstChild === null;
      const text = expr.slice(n.from, n.to);
      out.push({ type: n.type.name, value: n.type.name === DURATION_NODE ? durationMs(text) : leaf ? text : "" });
    },
  });
  return out;
}

/** The production tree with its durations divided by the factor (ms, rounded like the profile). */
function normalised(expr: string): Token[] {
  return tokens(expr).map((t) => (t.type === DURATION_NODE ? { ...t, value: Math.max(1, Math.round((t.value as number) / F)) } : t));
}

const isAlert = (r: Rule): r is Extract<Rule, { alert: string }> => "alert" in r;

describe("durations", () => {
  it("parses and formats Prometheus durations", () => {
    expect(durationMs("1h30m")).toBe(5_400_000);
    expect(durationMs("500ms")).toBe(500);
    expect(durationMs("3d")).toBe(3 * 86_400_000);
    expect(formatDuration(72 * 60_000)).toBe("1h12m");
    expect(scaleDuration("15m", 30)).toBe("30s");
    expect(scaleDuration("30s", 60)).toBe("500ms");
    expect(() => durationMs("5 minutes")).toThrow(/not a Prometheus duration/);
  });

  it("rewrites ranges, subqueries and offsets but never thresholds or multipliers", () => {
    expect(scalePromql('sum(rate(x{le="5m"}[5m] offset 1h)) * 60 > 10', 30)).toBe('sum(rate(x{le="5m"}[10s] offset 2m)) * 60 > 10');
    expect(scalePromql("max_over_time(rate(y[1m])[30m:1m]) > 0.5", 60)).toBe("max_over_time(rate(y[1s])[30s:1s]) > 0.5");
  });
});

describe.each(ENVIRONMENTS)("the local profile of %s", (name) => {
  const env = environment(name);
  const prod = ruleGroups(env);
  const local = scaleRuleGroups(prod, F);

  it("keeps every group, rule, label and annotation, and only scales the durations of each expression", () => {
    expect(local.map((g) => g.name)).toEqual(prod.map((g) => g.name));
    let durations = 0;
    prod.forEach((g, gi) => {
      const lg = local[gi]!;
      expect(lg.rules.length).toBe(g.rules.length);
      g.rules.forEach((r, ri) => {
        const lr = lg.rules[ri]!;
        const { expr: _e, ...rest } = r as Rule & { for?: string };
        const { expr: _le, ...localRest } = lr as Rule & { for?: string };
        if (isAlert(r) && r.for) {
          expect(durationMs((lr as { for: string }).for)).toBe(Math.round(durationMs(r.for) / F));
          expect({ ...localRest, for: r.for }).toEqual(rest);
        } else {
          expect(localRest).toEqual(rest);
        }
        const want = normalised(r.expr);
        expect(tokens(lr.expr), `${"alert" in r ? r.alert : r.record}`).toEqual(want);
        durations += want.filter((t) => t.type === DURATION_NODE).length;
      });
    });
    // The comparison saw real windows (every rate/increase/over_time has one).
    expect(durations).toBeGreaterThan(30);
  });

  it("scales group_wait, group_interval and repeat_interval on every route, and nothing else", () => {
    const config = alertmanagerConfig(env);
    const scaled = scaleAlertmanagerConfig(config, F);
    const strip = (r: AlertmanagerRoute): AlertmanagerRoute => {
      const { group_wait: _w, group_interval: _i, repeat_interval: _r, routes, ...rest } = r;
      return { ...rest, ...(routes ? { routes: routes.map(strip) } : {}) };
    };
    expect(strip(scaled.route)).toEqual(strip(config.route));
    expect({ ...scaled, route: undefined }).toEqual({ ...config, route: undefined });
    const pairs = (a: AlertmanagerRoute, b: AlertmanagerRoute): [string, string][] => [
      ...(["group_wait", "group_interval", "repeat_interval"] as const).filter((k) => a[k] !== undefined).map((k) => [a[k]!, b[k]!] as [string, string]),
      ...(a.routes ?? []).flatMap((r, i) => pairs(r, b.routes![i]!)),
    ];
    const all = pairs(config.route, scaled.route);
    expect(all.length).toBeGreaterThan(5);
    for (const [p, l] of all) expect(durationMs(l)).toBe(p === "0s" ? 0 : Math.round(durationMs(p) / F));
  });
});

describe("the rendered local files", () => {
  it("pass promtool check rules and amtool check-config", async () => {
    const dir = await tempDir("profile");
    await writeFiles(dir, {
      "rules.yaml": stringify({ groups: scaleRuleGroups(ruleGroups(environment("dev")), F) }),
      "alertmanager.yaml": stringify(scaleAlertmanagerConfig(alertmanagerConfig(environment("dev")), F)),
    });
    const rules = await run("promtool", ["check", "rules", join(dir, "rules.yaml")]);
    expect(rules.code, rules.stdout + rules.stderr).toBe(0);
    const am = await run("amtool", ["check-config", join(dir, "alertmanager.yaml")]);
    expect(am.code, am.stdout + am.stderr).toBe(0);
  });
});
