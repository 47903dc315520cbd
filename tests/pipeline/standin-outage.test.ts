/** The stand-ins' outage switch (Faults.unavailableFor): every request answers 503 for the window, then normally again. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LibreTranslateStandin, StoreStandin } from "./standins/index.js";

let store: StoreStandin;
let translate: LibreTranslateStandin;
beforeAll(async () => {
  [store, translate] = await Promise.all([StoreStandin.start(), LibreTranslateStandin.start()]);
});
afterAll(async () => {
  await Promise.all([store?.close(), translate?.close()]);
});

const push = (key: string) =>
  fetch(`${store.url}/products`, { method: "POST", headers: { "content-type": "application/json", "idempotency-key": key }, body: JSON.stringify({ title: "t", externalId: key }) });
const translateOnce = () =>
  fetch(`${translate.url}/translate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ q: "hi", source: "en", target: "de" }) });

describe("a stand-in's 503 window", () => {
  it("answers every store request 503 during the window, writes nothing, and serves normally after it", async () => {
    store.faults.unavailableFor(400);
    expect(store.faults.unavailable).toBe(true);
    const during = await Promise.all([push("a"), push("b"), push("a")]);
    expect(during.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(store.writes).toBe(0);
    expect(store.stats.faults).toBe(3);
    await new Promise((r) => setTimeout(r, 450));
    expect(store.faults.unavailable).toBe(false);
    expect((await push("a")).status).toBe(201);
    expect(store.writes).toBe(1);
  });

  it("does the same for the translation stand-in, and clear() ends the window early", async () => {
    translate.faults.unavailableFor(60_000);
    expect((await translateOnce()).status).toBe(503);
    translate.faults.clear();
    const res = await translateOnce();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ translatedText: "[de] hi" });
  });
});
